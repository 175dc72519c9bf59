using Microsoft.AspNetCore.Http.HttpResults;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Adapters;
using StitchFin.ServiceDefaults.Identity;

namespace StitchFin.Providers.Completions;

/// <summary>The normalized completion API the conversation service calls on behalf of a tenant.</summary>
public static class CompletionsApi
{
    public const int MaxUserContentLength = 16_000;
    public const int MaxSystemPromptLength = 8_000;

    public static RouteGroupBuilder MapCompletionsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/internal").WithTags("Completions").RequireAuthorization(InternalPolicies.Tenant);
        group.MapPost("/completions", Complete);
        group.MapGet("/providers", ListProviders);
        return group;
    }

    public static async Task<Results<Ok<CompletionResult>, ProblemHttpResult, ValidationProblem>> Complete(
        CompletionRequest request,
        ProviderCatalog catalog,
        CompletionService completions,
        CurrentTenant tenant,
        CancellationToken cancellationToken)
    {
        if (Validate(request, catalog) is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var normalized = new NormalizedRequest(request.SystemPrompt ?? "", request.UserContent, tenant.Id, tenant.RequestId);
        var outcome = await completions.CompleteAsync(request.PrimaryProvider, request.FallbackProvider, normalized, cancellationToken);
        if (outcome.Result is { } result)
        {
            return TypedResults.Ok(result);
        }

        var failure = outcome.Failure!;
        return TypedResults.Problem(
            detail: failure.Detail,
            statusCode: StatusCodes.Status502BadGateway,
            title: "Every provider failed",
            extensions: new Dictionary<string, object?> { ["attempts"] = failure.Attempts });
    }

    public static Ok<ProviderStatus[]> ListProviders(ProviderCatalog catalog, ProviderPipelines pipelines) =>
        TypedResults.Ok(catalog.Names
            .Select(name => new ProviderStatus(name, Telemetry.ProvidersTelemetry.CircuitStateName(pipelines.For(name).CircuitState)))
            .ToArray());

    private static Dictionary<string, string[]>? Validate(CompletionRequest request, ProviderCatalog catalog)
    {
        var errors = new Dictionary<string, string[]>();
        var known = string.Join(", ", catalog.Names);
        if (string.IsNullOrEmpty(request.PrimaryProvider))
        {
            errors["primaryProvider"] = [$"primaryProvider is required; one of {known}."];
        }
        else if (!catalog.Contains(request.PrimaryProvider))
        {
            errors["primaryProvider"] = [$"Unknown provider '{request.PrimaryProvider}'; one of {known}."];
        }

        if (request.FallbackProvider is { } fallback)
        {
            if (!catalog.Contains(fallback))
            {
                errors["fallbackProvider"] = [$"Unknown provider '{fallback}'; one of {known}, or null."];
            }
            else if (fallback == request.PrimaryProvider)
            {
                errors["fallbackProvider"] = ["fallbackProvider must differ from primaryProvider."];
            }
        }

        if (string.IsNullOrEmpty(request.UserContent))
        {
            errors["userContent"] = ["userContent must not be empty."];
        }
        else if (request.UserContent.Length > MaxUserContentLength)
        {
            errors["userContent"] = [$"userContent must be at most {MaxUserContentLength} characters."];
        }

        if (request.SystemPrompt?.Length > MaxSystemPromptLength)
        {
            errors["systemPrompt"] = [$"systemPrompt must be at most {MaxSystemPromptLength} characters."];
        }

        return errors.Count == 0 ? null : errors;
    }
}

public sealed record ProviderStatus(string Name, string CircuitState);
