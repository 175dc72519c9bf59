using Microsoft.AspNetCore.Http;

namespace StitchFin.ServiceDefaults.Identity;

/// <summary>The tenant the edge asserted for this request; every query filters by it.</summary>
public sealed class CurrentTenant(IHttpContextAccessor accessor)
{
    public Guid Id => Guid.TryParse(Claim(InternalIdentityAuthenticationHandler.TenantIdClaim), out var id)
        ? id
        : throw new InvalidOperationException("No tenant identity on this request.");

    public IdentityKind Kind => Enum.Parse<IdentityKind>(Claim(InternalIdentityAuthenticationHandler.KindClaim) ?? nameof(IdentityKind.Service));

    public string RequestId => Claim(InternalIdentityAuthenticationHandler.RequestIdClaim) ?? accessor.HttpContext?.TraceIdentifier ?? "";

    private string? Claim(string type) => accessor.HttpContext?.User.FindFirst(type)?.Value;
}
