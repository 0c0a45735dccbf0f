"""Translate botocore exceptions into injector's errors, by error code, without values."""

from __future__ import annotations

from botocore import exceptions as boto

from injector import log
from injector.errors import (
    AccessDeniedError,
    BadDataError,
    ConfigError,
    InjectorError,
    SecretNotFoundError,
    UnavailableError,
)

NOT_FOUND = frozenset(
    {
        "NoSuchKey",
        "NoSuchBucket",
        "NoSuchVersion",
        "NotFound",
        "404",
        "ParameterNotFound",
        "ParameterVersionNotFound",
        "ParameterVersionLabelNotFound",
        "ResourceNotFoundException",
    }
)
DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "403",
        "Forbidden",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidToken",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "KMSAccessDeniedException",
        "AuthFailure",
        "InvalidSignatureException",
        "MissingAuthenticationToken",
        "DisabledException",
        "KMSDisabledException",
        "KeyUnavailableException",
        "KMSInvalidStateException",  # key disabled or pending deletion: not the data's fault
        "AccountProblem",
        "AllAccessDisabled",
    }
)
BAD_DATA = frozenset(
    {
        "InvalidCiphertextException",
        "IncorrectKeyException",
        "InvalidKeyUsageException",
        "DecryptionFailure",
    }
)
CONFIG = frozenset(
    {
        "ValidationException",
        "InvalidParameterException",
        "InvalidParameterValue",
        "InvalidBucketName",
        "InvalidArgument",
        "InvalidKeyId",
        "NotFoundException",
        "InvalidRequestException",
        "KeyInvalidStateException",
    }
)
NO_CREDENTIALS = (
    boto.NoCredentialsError,
    boto.PartialCredentialsError,
    boto.CredentialRetrievalError,
    boto.TokenRetrievalError,
    boto.SSOTokenLoadError,
    boto.UnauthorizedSSOTokenError,
)
_MESSAGE_MAX = 160


CONFIGURATION = (
    boto.NoRegionError,
    boto.ProfileNotFound,
    boto.InvalidIMDSEndpointModeError,
    boto.InvalidIMDSEndpointError,
    boto.InvalidRegionError,
)
TLS_UNTRUSTED = "TLS certificate not trusted; AWS_CA_BUNDLE names a bundle"


def translate(exc: Exception, reference: str | None = None) -> InjectorError:
    """Map *exc* to the InjectorError that carries the documented exit code."""
    if isinstance(exc, InjectorError):
        return exc
    if isinstance(exc, boto.ClientError):
        return _client_error(exc, reference)
    if isinstance(exc, NO_CREDENTIALS):
        return AccessDeniedError(f"no AWS credentials ({type(exc).__name__})", reference=reference)
    if isinstance(exc, boto.ParamValidationError):
        return ConfigError("the store rejected the reference's form", reference=reference)
    if isinstance(exc, CONFIGURATION):
        from injector.backends.aws import configuration_error  # noqa: PLC0415 - no cycle at import

        return configuration_error(exc, reference)
    return UnavailableError(_transport(exc), reference=reference)


def _client_error(exc: boto.ClientError, reference: str | None) -> InjectorError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    # Redact first, then cut: a value cut at the boundary would no longer match the redaction.
    message = log.redact(str(error.get("Message", "")))[:_MESSAGE_MAX]
    detail = f"{code}: {message}".rstrip(": ")
    if code in NOT_FOUND:
        return SecretNotFoundError(f"not found ({detail})", reference=reference)
    if code in DENIED or status == 403:  # noqa: PLR2004 - HTTP Forbidden
        return AccessDeniedError(f"access denied ({detail})", reference=reference)
    if code in BAD_DATA:
        return BadDataError(f"cannot decrypt ({detail})", reference=reference)
    if code in CONFIG:
        return ConfigError(f"rejected by the store ({detail})", reference=reference)
    if status == 404:  # noqa: PLR2004 - HTTP Not Found
        return SecretNotFoundError(f"not found ({detail})", reference=reference)
    return UnavailableError(f"store unavailable ({detail}, HTTP {status})", reference=reference)


def _transport(exc: Exception) -> str:
    name = type(exc).__name__
    if isinstance(exc, boto.ConnectTimeoutError | boto.EndpointConnectionError):
        return f"cannot connect to the store ({name})"
    if isinstance(exc, boto.ReadTimeoutError):
        return f"the store did not answer in time ({name})"
    if isinstance(exc, boto.SSLError):
        if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "certificate verify failed" in str(exc):
            return TLS_UNTRUSTED
        return f"TLS failure ({name})"
    return f"transport failure ({name})"
