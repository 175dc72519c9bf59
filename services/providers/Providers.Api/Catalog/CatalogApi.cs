using Microsoft.AspNetCore.Http.HttpResults;
using StitchFin.Contracts.Providers;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Providers.Catalog;

/// <summary><c>GET /providers</c>: names, kinds, prices and models of the configured providers; never an address or a key.</summary>
public static class CatalogApi
{
    public static RouteGroupBuilder MapCatalogApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/providers").WithTags("Providers").RequireAuthorization(InternalPolicies.TenantOrService);
        group.MapGet("/", ListProviders);
        return group;
    }

    public static Ok<ProviderInfo[]> ListProviders(ProviderCatalog catalog) =>
        TypedResults.Ok(catalog.Entries.Select(e => e.ToInfo()).ToArray());
}
