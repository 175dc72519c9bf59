using System.Net;
using System.Net.Http.Json;
using StitchFin.Contracts.Tenancy;
using StitchFin.ServiceDefaults.Http;
using StitchFin.ServiceDefaults.Identity;
using ServiceDefaultsExtensions = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Gateway.ApiKeys;

/// <summary>A key tenancy vouched for, with the texts the per-request claims need computed once.</summary>
public sealed record VerifiedKey(Guid TenantId, Guid KeyId)
{
    public string TenantIdText { get; } = TenantId.ToString();

    public string KeyIdText { get; } = KeyId.ToString();
}

/// <summary>Tenancy could not say whether a key is valid (down, timed out, or answered an error).</summary>
public sealed class TenancyUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Calls tenancy's <c>POST /internal/keys/verify</c> as the edge itself (a Service identity).</summary>
public sealed class TenancyKeyClient(IHttpClientFactory httpClients, InternalIdentitySigner signer)
{
    public const string HttpClientName = "tenancy-keys";
    private static readonly Uri VerifyPath = new("/internal/keys/verify", UriKind.Relative);
    private static readonly InternalCall VerifyCall = new("tenancy", HttpMethod.Post.Method, VerifyPath.OriginalString);

    /// <returns>The verified key, or <c>null</c> when tenancy does not know it or it is revoked.</returns>
    public async Task<VerifiedKey?> VerifyAsync(string apiKey, string requestId, CancellationToken cancellationToken)
    {
        var http = httpClients.CreateClient(HttpClientName);
        using var request = new HttpRequestMessage(HttpMethod.Post, VerifyPath)
        {
            Content = JsonBody.Create(new VerifyApiKeyRequest(apiKey), ServiceDefaultsExtensions.JsonOptions),
        };
        request.Headers.TryAddWithoutValidation(InternalIdentitySigner.HeaderName, signer.Sign(IdentityKind.Service, Guid.Empty, requestId, VerifyCall));

        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    var verified = await response.Content.ReadFromJsonAsync<VerifiedApiKey>(ServiceDefaultsExtensions.JsonOptions, cancellationToken);
                    return verified is { } key && key.TenantId != Guid.Empty && key.KeyId != Guid.Empty
                        ? new VerifiedKey(key.TenantId, key.KeyId)
                        : throw new TenancyUnavailableException("Tenancy answered the key verification without a tenant and key id.");
                case HttpStatusCode.NotFound:
                    return null;
                default:
                    throw new TenancyUnavailableException($"Tenancy answered the key verification with {(int)response.StatusCode}.");
            }
        }
        catch (HttpRequestException ex)
        {
            throw new TenancyUnavailableException("Tenancy could not be reached to verify a key.", ex);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new TenancyUnavailableException("Tenancy answered the key verification with an unreadable body.", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TenancyUnavailableException("Tenancy did not answer the key verification in time.", ex);
        }
    }
}
