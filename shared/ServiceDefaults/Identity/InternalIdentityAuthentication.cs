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

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(InternalIdentitySigner.HeaderName, out var header))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!signer.TryVerify(header.ToString(), out var identity, out var failure))
        {
            return Task.FromResult(AuthenticateResult.Fail(failure));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim(TenantIdClaim, identity!.TenantId.ToString()),
            new Claim(KindClaim, identity.Kind.ToString()),
            new Claim(RequestIdClaim, identity.RequestId),
        ], SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        var result = await HandleAuthenticateOnceSafeAsync();
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Unauthorized",
                Detail = result.Failure is { } failure
                    ? $"The caller's identity was rejected: {failure.Message}."
                    : "Internal services accept only the identity the edge signs.",
            },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status403Forbidden,
                Title = "Forbidden",
                Detail = "This identity may not call this endpoint.",
            },
        });
    }
}
