using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace StitchFin.ServiceDefaults.Identity;

/// <summary>Authenticates a call from the edge (or a sibling service) by its signed identity header.</summary>
public sealed class InternalIdentityAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    InternalIdentitySigner signer,
    IProblemDetailsService problemDetails)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "InternalIdentity";
    public const string TenantIdClaim = "stitchfin:tenant_id";
    public const string KindClaim = "stitchfin:kind";
    public const string RequestIdClaim = "stitchfin:request_id";
    public const string IssuerClaim = "stitchfin:issuer";

    /// <summary>What a caller whose identity expired on the way is told to wait: the request did nothing and may be retried.</summary>
    public const string ExpiredRetryAfterSeconds = "1";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(InternalIdentitySigner.HeaderName, out var header))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!signer.TryVerify(header.ToString(), Request.Method, Request.PathBase.Add(Request.Path).Value ?? "/", out var identity, out var failure))
        {
            return Task.FromResult(AuthenticateResult.Fail(new InternalIdentityRefusedException(failure)));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim(TenantIdClaim, identity!.TenantId.ToString()),
            new Claim(KindClaim, identity.Kind.ToString()),
            new Claim(RequestIdClaim, identity.RequestId),
            new Claim(IssuerClaim, identity.Issuer),
        ], SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        if (result.Failure is InternalIdentityRefusedException { Reason: IdentityFailure.Expired })
        {
            // The identity was genuine but the request waited too long inside the system (a paused or overloaded
            // service): the caller's key is fine, so this is not a 401.
            Response.Headers.RetryAfter = ExpiredRetryAfterSeconds;
            await WriteProblemAsync(StatusCodes.Status503ServiceUnavailable, "Service unavailable",
                "The request waited too long inside the gateway and was not processed; retry it.");
            return;
        }

        await WriteProblemAsync(StatusCodes.Status401Unauthorized, "Unauthorized", result.Failure is { } failure
            ? $"The caller's identity was rejected: {failure.Message}."
            : "Internal services accept only the identity the edge signs.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden", "This identity may not call this endpoint.");

    private async Task WriteProblemAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }
}

/// <summary>Why an internal identity was refused, kept as the authentication failure so the challenge can tell them apart.</summary>
public sealed class InternalIdentityRefusedException(IdentityFailure reason) : Exception(reason switch
{
    IdentityFailure.Expired => "expired identity",
    IdentityFailure.BadSignature => "bad signature (or signed for another service, method or path, or by an unknown issuer)",
    IdentityFailure.NotFromEdge => "a tenant or admin identity signed by a service other than the edge",
    IdentityFailure.Missing => "missing identity",
    _ => "malformed identity",
})
{
    public IdentityFailure Reason { get; } = reason;
}
