using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace StitchFin.Gateway.Authentication;

/// <summary>The policies routes name in configuration (<c>AuthorizationPolicy</c>).</summary>
public static class EdgePolicies
{
    /// <summary>A tenant's API key (<c>X-API-Key</c> or <c>Authorization: Bearer</c>).</summary>
    public const string Tenant = "tenant";

    /// <summary>The edge's admin secret (<c>X-Admin-Key</c>); only <c>POST /tenants</c>.</summary>
    public const string Admin = "admin";
}

/// <summary>Claims of the principal the edge builds; the forwarding transform turns them into a signed identity.</summary>
public static class EdgeClaims
{
    public const string TenantId = "edge:tenant_id";
    public const string KeyId = "edge:key_id";
    public const string Admin = "edge:admin";
}

public static class EdgeAuthentication
{
    public static IServiceCollection AddEdgeAuthentication(this IServiceCollection services)
    {
        // No default scheme: a request is authenticated only by the scheme its route's policy names.
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, AdminKeyAuthenticationHandler>(AdminKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(EdgePolicies.Tenant, new AuthorizationPolicyBuilder(ApiKeyAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser()
                .RequireClaim(EdgeClaims.TenantId)
                .Build())
            .AddPolicy(EdgePolicies.Admin, new AuthorizationPolicyBuilder(AdminKeyAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser()
                .RequireClaim(EdgeClaims.Admin)
                .Build());
        return services;
    }
}
