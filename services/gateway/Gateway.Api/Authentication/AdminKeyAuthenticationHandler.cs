using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using StitchFin.Gateway.Http;

namespace StitchFin.Gateway.Authentication;

/// <summary>Authenticates the admin by <c>X-Admin-Key</c> against <c>Edge:AdminKey</c> in constant time.</summary>
public sealed class AdminKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptionsMonitor<EdgeOptions> edge,
    FailedAuthenticationLimiter failures)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AdminKey";
    public const string AdminKeyHeader = "X-Admin-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var given = Request.Headers[AdminKeyHeader].ToString();
        if (given.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!failures.MayTry(Context))
        {
            return Task.FromResult(AuthenticateResult.Fail("Too many failed authentications from this address."));
        }

        if (!Matches(given, edge.CurrentValue.AdminKey))
        {
            failures.Failed(Context);
            return Task.FromResult(AuthenticateResult.Fail("The admin key is wrong."));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim(EdgeClaims.Admin, "true")], SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (await failures.TryWriteLimitedAsync(Context))
        {
            return;
        }

        var result = await HandleAuthenticateOnceSafeAsync();
        await EdgeProblems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Unauthorized",
            result.Failure?.Message ?? $"This call requires the {AdminKeyHeader} header.");
    }

    /// <summary>Hashing both sides first keeps the comparison constant-time even when the lengths differ.</summary>
    public static bool Matches(string given, string expected)
    {
        if (string.IsNullOrEmpty(expected))
        {
            return false;
        }

        Span<byte> givenHash = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> expectedHash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(given), givenHash);
        SHA256.HashData(Encoding.UTF8.GetBytes(expected), expectedHash);
        return CryptographicOperations.FixedTimeEquals(givenHash, expectedHash);
    }
}
