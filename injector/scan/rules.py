"""The rule table: bc-detect-secrets' regex plugins (with our keyword prefilter) plus our own.

The library's plugins are the maintained detection logic; what this table adds is, per
plugin, our rule id, category and severity, and the literals one of which every match
contains (the Aho-Corasick prefilter). Plugins without such a literal run only on the
keyword lines of config-like files and on the image config. ``tests/unit`` checks that
every regex plugin of the pinned library is in this table.
"""

from __future__ import annotations

import re
from typing import NamedTuple

LIBRARY = "bc-detect-secrets"


class Rule(NamedTuple):
    """One rule: id, category, severity and a title for reports."""

    id: str
    category: str
    severity: str
    title: str


class Plugin(NamedTuple):
    """A library plugin as we run it."""

    name: str  # class name in detect_secrets.plugins.<module>
    rule: Rule
    literals: tuple[str, ...]  # empty: config-like keyword lines only

    @property
    def module(self) -> str:
        """Return the library module that defines the plugin (imported by name: frozen-safe)."""
        return "detect_secrets.plugins." + MODULES[self.name]


class Pattern(NamedTuple):
    """One of our own image-specific rules: literals to prefilter, a bounded regex."""

    rule: Rule
    literals: tuple[str, ...]
    regex: re.Pattern[str]
    files: tuple[str, ...] = ()  # basenames or path suffixes it applies to; empty: all text


MODULES = {
    "ArtifactoryDetector": "artifactory",
    "AWSKeyDetector": "aws",
    "AzureStorageKeyDetector": "azure_storage_key",
    "BasicAuthDetector": "basic_auth",
    "CloudantDetector": "cloudant",
    "DiscordBotTokenDetector": "discord",
    "GitHubTokenDetector": "github_token",
    "IbmCloudIamDetector": "ibm_cloud_iam",
    "IbmCosHmacDetector": "ibm_cos_hmac",
    "JwtTokenDetector": "jwt",
    "MailchimpDetector": "mailchimp",
    "NpmDetector": "npm",
    "PrivateKeyDetector": "private_key",
    "SendGridDetector": "sendgrid",
    "SlackDetector": "slack",
    "SoftlayerDetector": "softlayer",
    "SquareOAuthDetector": "square_oauth",
    "StripeDetector": "stripe",
    "TwilioKeyDetector": "twilio",
}


def _r(rule_id: str, category: str, severity: str, title: str) -> Rule:
    return Rule(rule_id, category, severity, title)


PLUGINS: tuple[Plugin, ...] = (
    Plugin(
        "AWSKeyDetector",
        _r("aws-access-key", "cloud-key", "high", "AWS access key"),
        ("AKIA", "ASIA", "ABIA", "ACCA", "A3T", "aws", "AWS", "Aws"),
    ),
    Plugin(
        "ArtifactoryDetector",
        _r("artifactory-token", "token", "high", "Artifactory credentials"),
        ("AKC", "artif", "Artif", "ARTIF", "jfrog", "JFrog", "JFROG"),
    ),
    Plugin(
        "AzureStorageKeyDetector",
        _r("azure-storage-key", "cloud-key", "high", "Azure storage account key"),
        ("==",),
    ),
    Plugin(
        "BasicAuthDetector",
        _r("url-credentials", "password", "high", "Credentials in a URL"),
        ("://",),
    ),
    Plugin("CloudantDetector", _r("cloudant", "password", "high", "Cloudant credentials"), ()),
    Plugin(
        "DiscordBotTokenDetector", _r("discord-bot-token", "token", "high", "Discord bot token"), ()
    ),
    Plugin(
        "GitHubTokenDetector",
        _r("github-token", "token", "high", "GitHub token"),
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ),
    Plugin(
        "IbmCloudIamDetector", _r("ibm-cloud-iam", "cloud-key", "high", "IBM Cloud IAM key"), ()
    ),
    Plugin("IbmCosHmacDetector", _r("ibm-cos-hmac", "cloud-key", "high", "IBM COS HMAC key"), ()),
    Plugin("JwtTokenDetector", _r("jwt", "token", "high", "JSON Web Token"), ("eyJ",)),
    Plugin("MailchimpDetector", _r("mailchimp-key", "token", "high", "Mailchimp key"), ("-us",)),
    Plugin(
        "NpmDetector",
        _r("npm-token", "token", "high", "npm token"),
        ("npm_", "_authToken", "NPM_TOKEN", "NPM-TOKEN", "NPM TOKEN", "NPMTOKEN"),
    ),
    Plugin(
        "PrivateKeyDetector",
        _r("private-key", "private-key", "critical", "Private key"),
        ("BEGIN", "PuTTY-User-Key-File-2"),
    ),
    Plugin("SendGridDetector", _r("sendgrid-key", "token", "high", "SendGrid key"), ("SG.",)),
    Plugin(
        "SlackDetector",
        _r("slack-token", "token", "high", "Slack token"),
        ("xox", "hooks.slack.com"),
    ),
    Plugin(
        "SoftlayerDetector",
        _r("softlayer", "cloud-key", "high", "SoftLayer credentials"),
        ("api.softlayer.com",),
    ),
    Plugin(
        "SquareOAuthDetector",
        _r("square-oauth", "token", "high", "Square OAuth secret"),
        ("sq0csp-",),
    ),
    Plugin("StripeDetector", _r("stripe-key", "token", "high", "Stripe key"), ("k_live_",)),
    Plugin("TwilioKeyDetector", _r("twilio-key", "token", "high", "Twilio key"), ("AC", "SK")),
)
# Not regex plugins: entropy is ours at low severity (below), keywords are ours (SECRET_NAME).
ENTROPY_PLUGINS = ("Base64HighEntropyString", "HexHighEntropyString")
NOT_USED = ("KeywordDetector",)

ENTROPY = _r("high-entropy-string", "entropy", "low", "High-entropy string in a config file")
SECRET_LITERAL = _r(
    "secret-name-literal", "password", "medium", "Secret-looking name with a literal"
)
KNOWN_VALUE = _r("known-value", "known-value", "critical", "The value of a known secret")
USES_REFERENCE = _r("uses-reference", "reference", "info", "Uses an injector reference")
AWS_PAIR = _r("aws-secret-key", "cloud-key", "critical", "AWS secret key next to an access key ID")
POLICY_NAME = _r("policy-filename", "policy", "high", "Policy FILENAMEMATCH")

PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        _r("docker-auth", "registry-auth", "critical", "Docker registry auth"),
        ('"auth"', '"identitytoken"'),
        re.compile(r'"(?:auth|identitytoken)"\s*:\s*"([A-Za-z0-9+/=_.-]{8,})"'),
    ),
    Pattern(
        _r("npmrc-auth-token", "token", "high", "npm registry token in .npmrc"),
        ("_authToken", "_auth", "_password"),
        re.compile(r'(?:_authToken|_auth|_password)\s*=\s*"?([^\s"]{6,})'),
        (".npmrc",),
    ),
    Pattern(
        _r("kubeconfig-credential", "token", "high", "kubeconfig token or client key"),
        ("token:", "client-key-data:", "password:"),
        re.compile(r"(?:token|client-key-data|password):\s*[\"']?([^\s\"']{8,})"),
        ("/.kube/config", "kubeconfig", ".kubeconfig"),
    ),
    Pattern(
        _r("pypirc-password", "password", "high", "password in .pypirc"),
        ("password",),
        re.compile(r"password\s*[:=]\s*(\S{4,})"),
        (".pypirc",),
    ),
    Pattern(
        _r("netrc-password", "password", "high", "password in .netrc"),
        ("password",),
        re.compile(r"password\s+(\S{4,})"),
        (".netrc", "_netrc"),
    ),
    Pattern(
        _r("base64-private-key", "private-key", "critical", "Base64-encoded private key"),
        ("LS0tLS1CRUdJTi",),
        re.compile(r"LS0tLS1CRUdJTi[A-Za-z0-9+/]{16,}={0,2}"),
    ),
)

FILE_RULES: tuple[tuple[Rule, re.Pattern[str]], ...] = (
    (
        _r("ssh-private-key-file", "private-key", "high", "SSH private key file"),
        re.compile(r"(?:/\.ssh/id_[^/]*(?<!\.pub)|/etc/ssh/ssh_host_[^/]*_key)$"),
    ),
    (
        _r("docker-config-file", "registry-auth", "medium", "Docker client config file"),
        re.compile(r"/\.docker/config\.json$"),
    ),
    (
        _r("credentials-file", "password", "medium", "Credentials file"),
        re.compile(r"/(?:credentials|\.git-credentials|\.netrc|\.pgpass)$"),
    ),
    (
        _r("key-file", "private-key", "low", "Key or certificate file"),
        re.compile(r"\.(?:pem|key|p12|pfx|jks|keystore)$"),
    ),
)

# Names that look secret (ENV, ARG, labels, config-like files); the value must be a literal.
SECRET_NAME = re.compile(
    r"(?i)(?:pass(?:wd|word)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|auth[_-]?key|credential)"
)
NOT_SECRET_NAME = re.compile(
    r"(?i)[_.-](?:file|path|dir|id|length|len|min|max|url|encryption|type|hashes|mode|policy"
    r"|method|prompt|command|cmd|name|user|username|endpoint|expiry|ttl|timeout)$"
)
COMMENT = re.compile(r"^\s*(?:#|;|//|\*|--)")
# A NAME=literal (or NAME: literal) assignment on one line of a config-like file.
ASSIGNMENT = re.compile(
    r"(?i)([A-Za-z0-9_.-]{0,40}(?:pass(?:wd|word)?|pwd|secret|token|api[_-]?key|apikey"
    r"|access[_-]?key|private[_-]?key)[A-Za-z0-9_.-]{0,40})[\"']?\s{0,4}[:=]\s{0,4}[\"']?"
    r"([^\s\"',;#]{4,200})"
)
# Lowercase keywords selecting candidate lines in config-like files.
KEYWORDS = ("pass", "pwd", "secret", "token", "key", "auth", "credential")
CONFIG_LIKE = re.compile(
    r"(?i)(?:\.(?:env|ini|cfg|conf|cnf|config|properties|ya?ml|json|toml|xml|npmrc|pypirc"
    r"|netrc|pgpass|tfvars|sh)$|/\.env[^/]*$|/(?:credentials|\.git-credentials|config|"
    r"kubeconfig|\.netrc|\.pgpass|\.npmrc|\.pypirc|\.s3cfg|\.boto)$)"
)
# Example values that distributions ship in their default configs (listed in bench/scan.md):
# the name=literal rule is not applied there; every other rule still is.
DISTRO_EXAMPLES = frozenset({"/etc/ssl/openssl.cnf", "/usr/lib/ssl/openssl.cnf"})
PLACEHOLDER = re.compile(
    r"^(?:\$|\{\{|<|%\(|@|\*+$|x+$|true$|false$|null$|none$|yes$|no$|on$|off$|"
    r"required$|optional$|string$|example$|\.\.\.)",
    re.IGNORECASE,
)


def all_rules() -> dict[str, Rule]:
    """Return every rule by id (plugins, patterns, file rules and the special ones)."""
    rules = [p.rule for p in PLUGINS] + [p.rule for p in PATTERNS] + [r for r, _ in FILE_RULES]
    rules += [ENTROPY, SECRET_LITERAL, KNOWN_VALUE, USES_REFERENCE, AWS_PAIR, POLICY_NAME]
    return {rule.id: rule for rule in rules}


def looks_secret(name: str) -> bool:
    """Tell whether a variable, label or build-arg name looks like it holds a secret."""
    return bool(SECRET_NAME.search(name)) and not NOT_SECRET_NAME.search(name)


def is_literal(value: str) -> bool:
    """Tell whether *value* is a literal worth reporting (not empty, not a placeholder)."""
    value = value.strip().strip("'\"")
    return len(value) >= 4 and not PLACEHOLDER.match(value)  # noqa: PLR2004 - shortest password
