//! The build-check rules: the stock linter's (same names, descriptions and URLs as BuildKit's
//! `frontend/dockerfile/linter/ruleset.go`) and hoard's own (named `Hoard...`, documented in the
//! README). Each rule's message is built where the rule is triggered (the parser, the
//! instruction typer or the converter); this file only says what each rule is.

use super::Rule;

const fn stock(name: &'static str, description: &'static str, url: &'static str) -> Rule {
    Rule {
        name,
        description,
        url,
        experimental: false,
        hoard: false,
    }
}

pub const STAGE_NAME_CASING: Rule = stock(
    "StageNameCasing",
    "Stage names should be lowercase",
    "https://docs.docker.com/go/dockerfile/rule/stage-name-casing/",
);
pub const FROM_AS_CASING: Rule = stock(
    "FromAsCasing",
    "The 'as' keyword should match the case of the 'from' keyword",
    "https://docs.docker.com/go/dockerfile/rule/from-as-casing/",
);
pub const NO_EMPTY_CONTINUATION: Rule = stock(
    "NoEmptyContinuation",
    "Empty continuation lines will become errors in a future release",
    "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/",
);
pub const CONSISTENT_INSTRUCTION_CASING: Rule = stock(
    "ConsistentInstructionCasing",
    "All commands within the Dockerfile should use the same casing (either upper or lower)",
    "https://docs.docker.com/go/dockerfile/rule/consistent-instruction-casing/",
);
pub const DUPLICATE_STAGE_NAME: Rule = stock(
    "DuplicateStageName",
    "Stage names should be unique",
    "https://docs.docker.com/go/dockerfile/rule/duplicate-stage-name/",
);
pub const RESERVED_STAGE_NAME: Rule = stock(
    "ReservedStageName",
    "Reserved words should not be used as stage names",
    "https://docs.docker.com/go/dockerfile/rule/reserved-stage-name/",
);
pub const JSON_ARGS_RECOMMENDED: Rule = stock(
    "JSONArgsRecommended",
    "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals",
    "https://docs.docker.com/go/dockerfile/rule/json-args-recommended/",
);
pub const MAINTAINER_DEPRECATED: Rule = stock(
    "MaintainerDeprecated",
    "The MAINTAINER instruction is deprecated, use a label instead to define an image author",
    "https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/",
);
pub const UNDEFINED_ARG_IN_FROM: Rule = stock(
    "UndefinedArgInFrom",
    "FROM command must use declared ARGs",
    "https://docs.docker.com/go/dockerfile/rule/undefined-arg-in-from/",
);
pub const WORKDIR_RELATIVE_PATH: Rule = stock(
    "WorkdirRelativePath",
    "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes",
    "https://docs.docker.com/go/dockerfile/rule/workdir-relative-path/",
);
pub const UNDEFINED_VAR: Rule = stock(
    "UndefinedVar",
    "Variables should be defined before their use",
    "https://docs.docker.com/go/dockerfile/rule/undefined-var/",
);
pub const MULTIPLE_INSTRUCTIONS_DISALLOWED: Rule = stock(
    "MultipleInstructionsDisallowed",
    "Multiple instructions of the same type should not be used in the same stage",
    "https://docs.docker.com/go/dockerfile/rule/multiple-instructions-disallowed/",
);
pub const LEGACY_KEY_VALUE_FORMAT: Rule = stock(
    "LegacyKeyValueFormat",
    "Legacy key/value format with whitespace separator should not be used",
    "https://docs.docker.com/go/dockerfile/rule/legacy-key-value-format/",
);
/// The stock rule has no URL.
pub const INVALID_BASE_IMAGE_PLATFORM: Rule = stock(
    "InvalidBaseImagePlatform",
    "Base image platform does not match expected target platform",
    "",
);
pub const REDUNDANT_TARGET_PLATFORM: Rule = stock(
    "RedundantTargetPlatform",
    "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior",
    "https://docs.docker.com/go/dockerfile/rule/redundant-target-platform/",
);
pub const SECRETS_USED_IN_ARG_OR_ENV: Rule = stock(
    "SecretsUsedInArgOrEnv",
    "Sensitive data should not be used in the ARG or ENV commands",
    "https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/",
);
pub const INVALID_DEFAULT_ARG_IN_FROM: Rule = stock(
    "InvalidDefaultArgInFrom",
    "Default value for global ARG results in an empty or invalid base image name",
    "https://docs.docker.com/go/dockerfile/rule/invalid-default-arg-in-from/",
);
pub const FROM_PLATFORM_FLAG_CONST_DISALLOWED: Rule = stock(
    "FromPlatformFlagConstDisallowed",
    "FROM --platform flag should not use a constant value",
    "https://docs.docker.com/go/dockerfile/rule/from-platform-flag-const-disallowed/",
);
pub const COPY_IGNORED_FILE: Rule = Rule {
    experimental: true,
    ..stock(
        "CopyIgnoredFile",
        "Attempting to Copy file that is excluded by .dockerignore",
        "https://docs.docker.com/go/dockerfile/rule/copy-ignored-file/",
    )
};
pub const INVALID_DEFINITION_DESCRIPTION: Rule = Rule {
    experimental: true,
    ..stock(
        "InvalidDefinitionDescription",
        "Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.",
        "https://docs.docker.com/go/dockerfile/rule/invalid-definition-description/",
    )
};
pub const EXPOSE_PROTO_CASING: Rule = stock(
    "ExposeProtoCasing",
    "Protocol in EXPOSE instruction should be lowercase",
    "https://docs.docker.com/go/dockerfile/rule/expose-proto-casing/",
);
pub const EXPOSE_INVALID_FORMAT: Rule = stock(
    "ExposeInvalidFormat",
    "IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release",
    "https://docs.docker.com/go/dockerfile/rule/expose-invalid-format/",
);

/// Where hoard's rules are documented: the README's "Build checks" section, as published with
/// the project. One constant, so that moving the README changes every rule's URL at once.
macro_rules! hoard_docs {
    ($anchor:literal) => {
        concat!(
            "https://github.com/hoard-build/hoard/blob/main/README.md#",
            $anchor
        )
    };
}

const fn hoard(name: &'static str, description: &'static str, url: &'static str) -> Rule {
    Rule {
        name,
        description,
        url,
        experimental: false,
        hoard: true,
    }
}

/// A RUN uses a tool hoard recognises, but hoard injects no cache for it (the message says why:
/// a user it cannot resolve, a cache directory the step deletes or mounts over, a tool it
/// recognises only partly).
pub const HOARD_UNCACHED_STEP: Rule = hoard(
    "HoardUncachedStep",
    "hoard recognises a package manager in this step but cannot provide its cache",
    hoard_docs!("hoarduncachedstep"),
);
/// A flag or variable in the step defeats a cache and hoard could not neutralise it.
pub const HOARD_CACHE_DEFEATED: Rule = hoard(
    "HoardCacheDefeated",
    "A flag or variable in this step defeats the cache hoard provides",
    hoard_docs!("hoardcachedefeated"),
);
/// A `# hoard:` comment names a tool hoard does not know.
pub const HOARD_UNKNOWN_TOOL: Rule = hoard(
    "HoardUnknownTool",
    "A # hoard: comment names a tool hoard does not know",
    hoard_docs!("hoardunknowntool"),
);

/// A CI cache build arg (`HOARD_CACHE_FROM`, `HOARD_CACHE_EXPORT`, ...) could not do what it
/// asks (a seed not found or not usable, a cache too large to export); the build goes on
/// without it. Raised by the gateway (`gateway::ci`).
pub const HOARD_CACHE: Rule = hoard(
    "HoardCache",
    "A CI cache setting could not be applied; the build goes on without it",
    hoard_docs!("hoardcache"),
);

/// Every rule, stock first, in the order of the stock rule set.
pub const ALL: &[Rule] = &[
    STAGE_NAME_CASING,
    FROM_AS_CASING,
    NO_EMPTY_CONTINUATION,
    CONSISTENT_INSTRUCTION_CASING,
    DUPLICATE_STAGE_NAME,
    RESERVED_STAGE_NAME,
    JSON_ARGS_RECOMMENDED,
    MAINTAINER_DEPRECATED,
    UNDEFINED_ARG_IN_FROM,
    WORKDIR_RELATIVE_PATH,
    UNDEFINED_VAR,
    MULTIPLE_INSTRUCTIONS_DISALLOWED,
    LEGACY_KEY_VALUE_FORMAT,
    INVALID_BASE_IMAGE_PLATFORM,
    REDUNDANT_TARGET_PLATFORM,
    SECRETS_USED_IN_ARG_OR_ENV,
    INVALID_DEFAULT_ARG_IN_FROM,
    FROM_PLATFORM_FLAG_CONST_DISALLOWED,
    COPY_IGNORED_FILE,
    INVALID_DEFINITION_DESCRIPTION,
    EXPOSE_PROTO_CASING,
    EXPOSE_INVALID_FORMAT,
    HOARD_UNCACHED_STEP,
    HOARD_CACHE_DEFEATED,
    HOARD_UNKNOWN_TOOL,
    HOARD_CACHE,
];
