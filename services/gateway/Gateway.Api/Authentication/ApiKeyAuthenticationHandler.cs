using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using StitchFin.Gateway.ApiKeys;
using StitchFin.Gateway.Http;

namespace StitchFin.Gateway.Authentication;

/// <summary>
/// Authenticates a tenant by its API key against the verified-key cache (tenancy is asked only on a miss).
/// The key itself never leaves this class except towards tenancy, and never reaches a log or an exception.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyVerifier verifier,
    ApiKeyUsageTracker usage,
    FailedAuthenticationLimiter failures)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string ApiKeyHeader = "X-API-Key";
    private const int MaxKeyLength = 512;
    private static readonly object VerificationUnavailable = new();

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var apiKey = ReadKey(Request.Headers);
        if (apiKey is null)
        {
            return AuthenticateResult.NoResult();
        }

        if (apiKey.Length > MaxKeyLength)
        {
            return failures.MayTry(Context) ? Failed("The API key is malformed.") : Limited();
        }

        VerifiedKey? verified;
        try
        {
            // A client over its budget of wrong keys still gets in with a key the edge has already verified.
            verified = failures.MayTry(Context)
                ? await verifier.VerifyAsync(apiKey, RequestIds.Get(Context), Context.RequestAborted)
                : verifier.Cached(apiKey);
            if (verified is null && failures.IsLimited(Context))
            {
                return Limited();
            }
        }
        catch (TenancyUnavailableException)
        {
            Context.Items[VerificationUnavailable] = true;
            return AuthenticateResult.Fail("API keys cannot be verified right now.");
        }
        catch (OperationCanceledException) when (Context.RequestAborted.IsCancellationRequested)
        {
            return AuthenticateResult.Fail("The request was aborted.");
        }

        if (verified is null)
        {
            return Failed("The API key is unknown or revoked.");
        }

        usage.RecordUse(verified.TenantId, verified.KeyId);
        var principal = new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim(EdgeClaims.TenantId, verified.TenantIdText),
            new Claim(EdgeClaims.KeyId, verified.KeyIdText),
        ], SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    private AuthenticateResult Failed(string reason)
    {
        failures.Failed(Context);
        return AuthenticateResult.Fail(reason);
    }

    private static AuthenticateResult Limited() => AuthenticateResult.Fail("Too many failed authentications from this address.");

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (await failures.TryWriteLimitedAsync(Context))
        {
            return;
        }

        if (Context.Items.ContainsKey(VerificationUnavailable))
        {
            Response.Headers.RetryAfter = "1";
            await EdgeProblems.WriteAsync(Context, StatusCodes.Status503ServiceUnavailable, "Service unavailable",
                "API keys cannot be verified right now; try again shortly.");
            return;
        }

        var result = await HandleAuthenticateOnceSafeAsync();
        Response.Headers.WWWAuthenticate = "Bearer";
        await EdgeProblems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Unauthorized",
            result.Failure?.Message ?? $"An API key is required in the {ApiKeyHeader} header or as 'Authorization: Bearer <key>'.");
    }

    /// <summary><c>X-API-Key</c> wins; otherwise an <c>Authorization: Bearer</c> token (as OpenAI clients send it).</summary>
    public static string? ReadKey(IHeaderDictionary headers)
    {
        var apiKey = headers[ApiKeyHeader].ToString().Trim();
        if (apiKey.Length > 0)
        {
            return apiKey;
        }

        var authorization = headers[HeaderNames.Authorization].ToString();
        const string bearer = "Bearer ";
        if (authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
        {
            var token = authorization[bearer.Length..].Trim();
            return token.Length > 0 ? token : null;
        }

        return null;
    }
}
