# hoard: build into the cached target dir, then copy the final artifacts to where cargo
# would have put them without hoard. Anything unusual runs the real cargo untouched.
if [ -z "${HOARD_CARGO_TARGET:-}" ] || [ -n "${HOARD_CARGO_ACTIVE:-}" ]; then
  hoard_real cargo "$@"
  exit $?
fi

# `cargo metadata --no-deps` for this invocation's manifest (one line of JSON; empty on error).
hoard_metadata() {
  hoard_tc=
  case ${1:-} in +*) hoard_tc=$1; shift ;; esac
  hoard_n=$#
  hoard_keep=
  while [ "$hoard_n" -gt 0 ]; do
    hoard_a=$1
    shift
    hoard_n=$((hoard_n - 1))
    if [ -n "$hoard_keep" ]; then
      set -- "$@" "$hoard_a"
      hoard_keep=
      continue
    fi
    case $hoard_a in
      --) shift "$hoard_n"; hoard_n=0 ;;
      --manifest-path|--config|-Z) set -- "$@" "$hoard_a"; hoard_keep=1 ;;
      --manifest-path=*|--config=*|-Z?*) set -- "$@" "$hoard_a" ;;
    esac
  done
  if [ -n "$hoard_tc" ]; then
    set -- "$hoard_tc" metadata --no-deps --format-version 1 "$@"
  else
    set -- metadata --no-deps --format-version 1 "$@"
  fi
  hoard_real cargo "$@" 2>/dev/null
}

hoard_sub= hoard_sub2= hoard_want= hoard_off= hoard_profile= hoard_release= hoard_debug= hoard_path= hoard_triples=
for hoard_a in "$@"; do
  if [ -n "$hoard_want" ]; then
    case $hoard_want in
      profile) hoard_profile=$hoard_a ;;
      target) hoard_triples="$hoard_triples $hoard_a" ;;
    esac
    hoard_want=
    continue
  fi
  case $hoard_a in
    --) break ;;
    --target-dir|--target-dir=*|-C|-C?*) hoard_off=1 ;;
    --profile) hoard_want=profile ;;
    --profile=*) hoard_profile=${hoard_a#--profile=} ;;
    --target) hoard_want=target ;;
    --target=*) hoard_triples="$hoard_triples ${hoard_a#--target=}" ;;
    --release|-r) hoard_release=1 ;;
    --debug) hoard_debug=1 ;;
    --path) hoard_path=1; hoard_want=skip ;;
    --path=*) hoard_path=1 ;;
    --color|--config|-Z|--manifest-path) hoard_want=skip ;;
    -*|+*) ;;
    *) if [ -z "$hoard_sub" ]; then hoard_sub=$hoard_a; elif [ -z "$hoard_sub2" ]; then hoard_sub2=$hoard_a; fi ;;
  esac
done

hoard_copy=1
case $hoard_sub in
  build|b|check|c|clippy|doc|d|run|r|test|t|bench|rustc|rustdoc|zigbuild|nextest) ;;
  install) [ -n "$hoard_path" ] || hoard_copy= ;;
  chef) [ "$hoard_sub2" = cook ] || hoard_off=1; hoard_copy= ;;
  auditable) case $hoard_sub2 in build|zigbuild) ;; *) hoard_off=1 ;; esac ;;
  *) hoard_off=1 ;;
esac

if [ -n "$hoard_profile" ]; then
  case $hoard_profile in dev|test|check) hoard_profile=debug ;; bench) hoard_profile=release ;; esac
elif [ -n "$hoard_release" ] || [ "$hoard_sub" = bench ]; then
  hoard_profile=release
elif [ "$hoard_sub" = install ] && [ -z "$hoard_debug" ]; then
  hoard_profile=release
else
  hoard_profile=debug
fi

hoard_stock= hoard_meta=
[ -n "$hoard_off" ] || hoard_meta=$(hoard_metadata "$@")
hoard_stock=$(printf '%s' "$hoard_meta" | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
case $hoard_stock in
  *\\*|*'"'*) hoard_stock= ;;
  /*) ;;
  *) hoard_stock= ;;
esac
# A target dir the user mounted (their own cache mount) is left alone.
if [ -n "$hoard_stock" ] && [ -r /proc/self/mountinfo ]; then
  while read -r hoard_1 hoard_2 hoard_3 hoard_4 hoard_mp hoard_rest; do
    if [ "$hoard_mp" = "$hoard_stock" ]; then hoard_stock=; break; fi
  done < /proc/self/mountinfo
fi
if [ -z "$hoard_stock" ]; then
  hoard_real cargo "$@"
  exit $?
fi

hoard_dir=$HOARD_CARGO_TARGET/$(printf '%s' "$hoard_stock" | tr -c 'A-Za-z0-9._-' '_')
# Cargo trusts file mtimes: a cached fingerprint newer than an older checkout of the sources
# would ship a stale binary. Every path package therefore rebuilds, as without hoard; only
# registry and git dependencies (which never change under one version or revision, and whose
# extracted sources are cached with stable mtimes) come from the cache. The path packages are the
# workspace members and any other package that the workspace's Cargo.lock lists without a
# `source` (a path dependency outside the workspace, a `[patch]` with a path). Without a
# Cargo.lock, the path dependencies are followed from the manifests instead, transitively
# (what that misses: a `[patch]` with a path in a project without a Cargo.lock).
hoard_tc=
case ${1:-} in +*) hoard_tc=$1 ;; esac
hoard_nl='
'
# Member names of one `cargo metadata --no-deps` answer ($1). workspace_members are
# `name version (path+file://...)` (old cargo), `path+file://...#name@version` or
# `path+file:///dir/name#version` (new cargo).
hoard_members() {
  printf '%s\n' "$1" | sed -n 's/.*"workspace_members":\[\([^]]*\)\].*/\1/p' | tr ',' '\n' |
    sed 's/^"//; s/"$//' | while IFS= read -r hoard_m; do
      case $hoard_m in
        *' '*) printf '%s\n' "${hoard_m%% *}" ;;
        *'#'*'@'*) hoard_m=${hoard_m#*#}; printf '%s\n' "${hoard_m%@*}" ;;
        *'#'*) hoard_m=${hoard_m%#*}; printf '%s\n' "${hoard_m##*/}" ;;
      esac
    done
}
# The directories of $1's members, and those its members depend on by `path`.
hoard_member_dirs() {
  printf '%s' "$1" | grep -o '"manifest_path":"[^"]*"' | sed 's/^"manifest_path":"//; s/"$//; s|/[^/]*$||'
}
hoard_dep_dirs() {
  printf '%s' "$1" | grep -o '"path":"[^"]*"' | sed 's/^"path":"//; s/"$//'
}
hoard_path_packages() {
  hoard_members "$hoard_meta"
  hoard_root=$(printf '%s' "$hoard_meta" | sed -n 's/.*"workspace_root":"\([^"]*\)".*/\1/p')
  if [ -n "$hoard_root" ] && [ -f "$hoard_root/Cargo.lock" ]; then
    awk '
      function flush() { if (name != "" && !src) print name; name = ""; src = 0 }
      /^\[\[package\]\]/ { flush(); next }
      /^name = "/ { name = $3; gsub(/"/, "", name); next }
      /^source = / { src = 1; next }
      END { flush() }
    ' "$hoard_root/Cargo.lock" 2>/dev/null
    return 0
  fi
  hoard_seen=$hoard_nl$(hoard_member_dirs "$hoard_meta")$hoard_nl
  hoard_more=$(hoard_dep_dirs "$hoard_meta")
  while [ -n "$hoard_more" ]; do
    hoard_p=${hoard_more%%"$hoard_nl"*}
    case $hoard_more in *"$hoard_nl"*) hoard_more=${hoard_more#*"$hoard_nl"} ;; *) hoard_more= ;; esac
    case $hoard_p in /*) ;; *) continue ;; esac
    case $hoard_seen in *"$hoard_nl$hoard_p$hoard_nl"*) continue ;; esac
    hoard_m=$(hoard_metadata $hoard_tc --manifest-path "$hoard_p/Cargo.toml")
    hoard_seen=$hoard_seen$hoard_p$hoard_nl$(hoard_member_dirs "$hoard_m")$hoard_nl
    hoard_members "$hoard_m"
    hoard_more=$hoard_more$hoard_nl$(hoard_dep_dirs "$hoard_m")
  done
}
hoard_path_packages | while IFS= read -r hoard_name; do
  case $hoard_name in ''|*/*|.*) continue ;; esac
  rm -rf "$hoard_dir"/*/.fingerprint/"$hoard_name"-* "$hoard_dir"/*/*/.fingerprint/"$hoard_name"-*
done
CARGO_TARGET_DIR=$hoard_dir
HOARD_CARGO_ACTIVE=1
export CARGO_TARGET_DIR HOARD_CARGO_ACTIVE
hoard_real cargo "$@"
hoard_status=$?
if [ "$hoard_status" -ne 0 ] || [ -z "$hoard_copy" ]; then
  exit "$hoard_status"
fi

# Regular files directly inside $1 (binaries, .so, .a, .rlib, .d) into $2.
hoard_copy_files() {
  for hoard_f in "$1"/*; do
    [ -f "$hoard_f" ] || continue
    mkdir -p "$2" && cp -p "$hoard_f" "$2/" || return 1
  done
  return 0
}
# One profile dir, relative to the target dir (`release`, `x86_64-unknown-linux-musl/release`).
hoard_copy_profile() {
  [ -d "$hoard_dir/$1" ] || return 0
  hoard_copy_files "$hoard_dir/$1" "$hoard_stock/$1" &&
    hoard_copy_files "$hoard_dir/$1/examples" "$hoard_stock/$1/examples"
}

hoard_ok=1
if [ -n "$hoard_triples" ]; then
  for hoard_t in $hoard_triples; do
    hoard_t=${hoard_t##*/}
    hoard_t=${hoard_t%%.*}
    hoard_copy_profile "$hoard_t/$hoard_profile" || hoard_ok=
  done
else
  # No --target: the host profile, plus any `<triple>/<profile>` (a `build.target` in config).
  hoard_copy_profile "$hoard_profile" || hoard_ok=
  for hoard_t in "$hoard_dir"/*; do
    [ -d "$hoard_t/$hoard_profile" ] && [ ! -e "$hoard_t/.cargo-lock" ] || continue
    hoard_copy_profile "${hoard_t##*/}/$hoard_profile" || hoard_ok=
  done
fi
case $hoard_sub in
  doc|d|rustdoc)
    for hoard_t in "$hoard_dir/doc" "$hoard_dir"/*/doc; do
      [ -d "$hoard_t" ] || continue
      hoard_rel=${hoard_t#"$hoard_dir"/}
      mkdir -p "$hoard_stock/$hoard_rel" && cp -Rp "$hoard_t/." "$hoard_stock/$hoard_rel/" || hoard_ok=
    done
    ;;
esac
if [ -z "$hoard_ok" ]; then
  echo "hoard: cargo succeeded, but copying its output from $hoard_dir to $hoard_stock failed" >&2
  exit 1
fi
exit 0
