# A `target:` context: buildx builds `dep` and hands its result to `main`'s frontend as the
# frontend input `dep` (named context `input:dep`). tests/e2e.rs builds `main` with the stock
# frontend and with hoard (SYNTAX) and compares the images.
variable "OUT" {}
variable "SYNTAX" {
  default = ""
}

target "dep" {
  dockerfile = "dep.Dockerfile"
}

target "main" {
  dockerfile = "Dockerfile"
  contexts = {
    dep = "target:dep"
  }
  args = SYNTAX == "" ? {} : { BUILDKIT_SYNTAX = SYNTAX }
  output = ["type=oci,dest=${OUT},compression=uncompressed,force-compression=true"]
}
