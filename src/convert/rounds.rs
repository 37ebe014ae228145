//! One way through the converter's rounds, for every caller: the frontend's build and its
//! subrequests (outline, lint) and the offline tools (`explain`, `eject`).
//!
//! [`super::convert`] is pure: it answers what it still lacks ([`Outcome::NeedImages`],
//! [`Outcome::NeedFiles`]) and is called again with more in [`Resolved`] until it is done.
//! [`drive`] runs that loop; a [`Resolver`] says how the answers are found: through the
//! gateway (resolving images concurrently, reading files from built states while the states
//! that wait on no lookup are built), or without a daemon.
//!
//! What a round costs, and why the converter asks the way it does (issue 8):
//! * A `USER` name is resolved from the `/etc/passwd` of the state right before the step, and
//!   reading it builds that state. The converter asks only for states that hold every earlier
//!   step with its planned caches (a stage waiting on a lookup is *pending*; later lookups in
//!   it wait for the next round), so every step the build runs is a step of the final graph
//!   and runs once.
//! * While a file is read, the states that wait on no lookup (`ready`) are built too: stages
//!   that do not depend on the lookup run in parallel with it, as they would with the stock
//!   frontend, instead of after it.
//! * A step in which the planner finds no tool, and a step as root or as a numeric `uid:gid`
//!   with `HOME` set, need no lookup at all.

use std::future::Future;

use super::{
    convert, ConvertOpts, FileRequest, ImageRequest, Outcome, PlatformResult, Resolved,
    ResolvedImage,
};
use crate::error::{Error, Warning};
use crate::llb;

/// Upper bound on rounds: each round answers at least one new image or file, and lookups of
/// one stage come one round after another.
pub const MAX_ROUNDS: usize = 64;

/// How the converter's questions are answered.
pub trait Resolver {
    type Error: From<Error>;

    /// Resolve these base images (none of them resolved yet); the answers in the same order.
    fn images(
        &mut self,
        needs: &[ImageRequest],
    ) -> impl Future<Output = Result<Vec<ResolvedImage>, Self::Error>>;

    /// Whether [`Resolver::files`] reads anything. A resolver that never does (`--call outline`,
    /// `--call check`) has the converter assume every `USER` resolvable instead of asking:
    /// asking would cost one conversion round per lookup of a stage, for nothing.
    fn reads_files(&self) -> bool {
        true
    }

    /// Read these files (`None`: the file is missing or is not to be read); the answers in the
    /// same order. `ready` are states of the final graph that wait on no file: they may be
    /// built meanwhile, never any other state.
    fn files(
        &mut self,
        needs: &[FileRequest],
        ready: Vec<llb::Definition>,
    ) -> impl Future<Output = Result<Vec<Option<Vec<u8>>>, Self::Error>>;
}

/// The converter's final answer, and what was resolved on the way.
#[derive(Debug)]
pub struct Converted {
    pub results: Vec<PlatformResult>,
    pub warnings: Vec<Warning>,
    pub resolved: Resolved,
    /// How many times the converter ran.
    pub rounds: usize,
}

/// Run the converter until it is done, answering its questions through `resolver`.
pub async fn drive<R: Resolver>(
    text: &str,
    opts: &ConvertOpts,
    resolver: &mut R,
) -> Result<Converted, R::Error> {
    drive_from(text, opts, resolver, Resolved::default()).await
}

/// [`drive`], starting from what an earlier conversion of the same text resolved (its images
/// and files stay valid when only options that add steps change).
pub async fn drive_from<R: Resolver>(
    text: &str,
    opts: &ConvertOpts,
    resolver: &mut R,
    mut resolved: Resolved,
) -> Result<Converted, R::Error> {
    let assumed;
    let opts = if resolver.reads_files() || opts.no_reads {
        opts
    } else {
        assumed = ConvertOpts {
            no_reads: true,
            ..opts.clone()
        };
        &assumed
    };
    for round in 1..=MAX_ROUNDS {
        match convert(text, opts, &resolved)? {
            Outcome::Done { results, warnings } => {
                return Ok(Converted {
                    results,
                    warnings,
                    resolved,
                    rounds: round,
                })
            }
            Outcome::NeedImages(needs) => {
                // Stages naming the same image ask once each; it is resolved once.
                let mut keys = std::collections::BTreeSet::new();
                let needs: Vec<ImageRequest> = needs
                    .into_iter()
                    .filter(|n| {
                        let key = (n.reference.clone(), n.platform.id());
                        !resolved.images.contains_key(&key) && keys.insert(key)
                    })
                    .collect();
                if needs.is_empty() {
                    return Err(Error::new(
                        "internal error: the converter asked again for images it already has",
                    )
                    .into());
                }
                let answers = resolver.images(&needs).await?;
                for (n, a) in needs.into_iter().zip(answers) {
                    resolved.images.insert((n.reference, n.platform.id()), a);
                }
            }
            Outcome::NeedFiles { files, ready } => {
                let files: Vec<FileRequest> = files
                    .into_iter()
                    .filter(|f| {
                        !resolved
                            .files
                            .contains_key(&(f.key.clone(), f.path.clone()))
                    })
                    .collect();
                if files.is_empty() {
                    return Err(Error::new(
                        "internal error: the converter asked again for files it already has",
                    )
                    .into());
                }
                let answers = resolver.files(&files, ready).await?;
                for (f, a) in files.into_iter().zip(answers) {
                    resolved.files.insert((f.key, f.path), a);
                }
            }
        }
    }
    Err(Error::new("internal error: too many conversion rounds").into())
}

/// Run a future that never waits on I/O (a resolver without a daemon) to completion.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{ImageConfig, Platform};

    /// Answers images with an empty config and files from a table, recording every question.
    struct Table {
        passwd: Option<Vec<u8>>,
        asked: Vec<String>,
        ready: Vec<usize>,
    }

    impl Resolver for Table {
        type Error = Error;
        async fn images(&mut self, needs: &[ImageRequest]) -> Result<Vec<ResolvedImage>, Error> {
            Ok(needs
                .iter()
                .map(|n| {
                    self.asked.push(format!("image {}", n.reference));
                    ResolvedImage {
                        reference: n.reference.clone(),
                        digest: None,
                        config: ImageConfig::empty(&n.platform).to_json(),
                    }
                })
                .collect())
        }
        async fn files(
            &mut self,
            needs: &[FileRequest],
            ready: Vec<llb::Definition>,
        ) -> Result<Vec<Option<Vec<u8>>>, Error> {
            self.ready.push(ready.len());
            Ok(needs
                .iter()
                .map(|f| {
                    self.asked.push(format!("file {}", f.path));
                    match f.path.as_str() {
                        "/etc/group" => Some(b"root:x:0:\nstaff:x:50:app\n".to_vec()),
                        _ => self.passwd.clone(),
                    }
                })
                .collect())
        }
    }

    fn opts() -> ConvertOpts {
        ConvertOpts {
            build_platform: Platform::parse("linux/amd64").unwrap(),
            ..Default::default()
        }
    }

    const PASSWD: &[u8] = b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n";

    #[test]
    fn a_step_without_tools_needs_no_lookup() {
        let mut t = Table {
            passwd: Some(PASSWD.to_vec()),
            asked: Vec::new(),
            ready: Vec::new(),
        };
        let c = block_on(drive(
            "FROM busybox\nUSER app\nRUN echo hi\nUSER 1000:1000\nENV HOME=/h\nRUN pip install x\n",
            &opts(),
            &mut t,
        ))
        .unwrap();
        assert_eq!(t.asked, ["image docker.io/library/busybox:latest"]);
        assert_eq!(c.rounds, 2);
        let pip = &c.results[0].plans[1];
        assert_eq!(
            pip.user.as_ref().map(|u| (u.uid, u.gid, u.home.as_str())),
            Some((1000, 1000, "/h"))
        );
    }

    #[test]
    fn lookups_of_one_stage_come_one_round_after_another() {
        let text = "FROM busybox AS a\nRUN sleep 1\n\nFROM busybox\nUSER app\nRUN pip install x\nRUN pip install y\nCOPY --from=a / /a\n";
        let mut t = Table {
            passwd: Some(PASSWD.to_vec()),
            asked: Vec::new(),
            ready: Vec::new(),
        };
        let c = block_on(drive(text, &opts(), &mut t)).unwrap();
        // One lookup per round: the second step's state holds the first step, which must get
        // its caches first.
        assert_eq!(t.asked[1..], ["file /etc/passwd", "file /etc/passwd"]);
        // Stage `a` is ready (built meanwhile) in both rounds.
        assert_eq!(t.ready, [1, 1]);
        let plans = &c.results[0].plans;
        assert!(plans
            .iter()
            .filter(|p| p.span.start >= 6)
            .all(|p| p.user.as_ref().is_some_and(|u| u.uid == 1000)));
        assert!(plans
            .iter()
            .filter(|p| p.span.start >= 6)
            .all(|p| !p.plan.mounts.is_empty()));
    }

    #[test]
    fn a_stage_copying_from_a_pending_one_is_ready_only_up_to_the_copy() {
        let text = "FROM busybox AS a\nUSER app\nRUN pip install x\n\nFROM busybox\nRUN sleep 1\nCOPY --from=a / /a\nUSER app\nRUN pip install y\n";
        let mut t = Table {
            passwd: Some(PASSWD.to_vec()),
            asked: Vec::new(),
            ready: Vec::new(),
        };
        block_on(drive(text, &opts(), &mut t)).unwrap();
        // Round 1: stage a's lookup; the last stage is ready up to its COPY (the sleep).
        // Round 2: the last stage's own lookup, after the COPY; stage a is done.
        assert_eq!(t.asked[1..], ["file /etc/passwd", "file /etc/passwd"]);
        assert_eq!(t.ready, [1, 1]);
    }

    #[test]
    fn user_and_group_names_are_read_in_one_round() {
        let mut t = Table {
            passwd: Some(PASSWD.to_vec()),
            asked: Vec::new(),
            ready: Vec::new(),
        };
        let c = block_on(drive(
            "FROM busybox\nUSER app:staff\nRUN pip install x\n",
            &opts(),
            &mut t,
        ))
        .unwrap();
        assert_eq!(t.asked[1..], ["file /etc/group", "file /etc/passwd"]);
        assert_eq!(c.rounds, 3);
        let u = c.results[0].plans[0].user.clone().unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_str()), (1000, 50, "/home/app"));
    }

    /// Answers like [`Table`] but reads nothing.
    struct NoReads(Table);

    impl Resolver for NoReads {
        type Error = Error;
        fn reads_files(&self) -> bool {
            false
        }
        async fn images(&mut self, needs: &[ImageRequest]) -> Result<Vec<ResolvedImage>, Error> {
            self.0.images(needs).await
        }
        async fn files(
            &mut self,
            needs: &[FileRequest],
            ready: Vec<llb::Definition>,
        ) -> Result<Vec<Option<Vec<u8>>>, Error> {
            self.0.files(needs, ready).await
        }
    }

    #[test]
    fn a_resolver_that_reads_nothing_is_never_asked() {
        let text = "FROM busybox\nUSER app\nRUN pip install x\nRUN pip install y\nRUN npm ci\n";
        let mut t = NoReads(Table {
            passwd: None,
            asked: Vec::new(),
            ready: Vec::new(),
        });
        let c = block_on(drive(text, &opts(), &mut t)).unwrap();
        assert_eq!(t.0.asked, ["image docker.io/library/busybox:latest"]);
        assert_eq!(c.rounds, 2);
    }
}
