using StitchFin.Contracts.Providers;
using StitchFin.ServiceDefaults.Http;

namespace StitchFin.Conversation.Agents;

public static class AgentValidator
{
    public const int MaxNameLength = 100;
    public const int MaxSystemPromptLength = 8000;
    public const int MaxProviderLength = 64;
    public const int MaxModelLength = 200;

    /// <returns>Errors by camelCase field name; empty when the request is valid against the provider catalogue.</returns>
    public static Dictionary<string, string[]> Validate(AgentRequest request, IReadOnlyList<ProviderInfo> providers)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Name))
        {
            errors["name"] = ["name is required and must not be blank."];
        }
        else if (request.Name.Length > MaxNameLength)
        {
            errors["name"] = [$"name must be at most {MaxNameLength} characters."];
        }
        else if (TextRules.Problem(request.Name, multiline: false) is { } problem)
        {
            errors["name"] = [$"name {problem}."];
        }

        var providerList = string.Join(", ", providers.Select(p => $"\"{p.Name}\""));
        var primary = Target(request.PrimaryProvider, request.PrimaryModel, "primary", providers, providerList, errors);
        if (request.FallbackProvider is null)
        {
            if (request.FallbackModel is not null)
            {
                errors["fallbackModel"] = ["fallbackModel needs a fallbackProvider."];
            }
        }
        else if (Target(request.FallbackProvider, request.FallbackModel, "fallback", providers, providerList, errors) is { } fallback && fallback == primary)
        {
            errors[request.FallbackModel is null ? "fallbackProvider" : "fallbackModel"] =
                ["The fallback must differ from the primary: another provider, or another model of the same provider."];
        }

        if (request.SystemPrompt is { Length: > MaxSystemPromptLength })
        {
            errors["systemPrompt"] = [$"systemPrompt must be at most {MaxSystemPromptLength} characters."];
        }
        else if (request.SystemPrompt is not null && TextRules.Problem(request.SystemPrompt, multiline: true) is { } problem)
        {
            errors["systemPrompt"] = [$"systemPrompt {problem}."];
        }

        return errors;
    }

    /// <returns>The provider and the model it would be asked for, or null when either is invalid (the error is added).</returns>
    private static (string Provider, string? Model)? Target(
        string? providerName, string? model, string role, IReadOnlyList<ProviderInfo> providers, string providerList, Dictionary<string, string[]> errors)
    {
        var providerField = $"{role}Provider";
        var modelField = $"{role}Model";
        if (providerName is null)
        {
            errors[providerField] = [$"{providerField} is required: one of {providerList}."];
            return null;
        }

        if (providers.FirstOrDefault(p => p.Name == providerName) is not { } provider)
        {
            errors[providerField] = [role == "fallback"
                ? $"fallbackProvider must be null or one of {providerList}."
                : $"{providerField} must be one of {providerList}."];
            return null;
        }

        if (model is not null && (model.Length is 0 or > MaxModelLength || TextRules.Problem(model, multiline: false) is not null))
        {
            errors[modelField] = [$"{modelField} must be null or 1-{MaxModelLength} characters without control characters."];
            return null;
        }

        var effective = model ?? provider.DefaultModel;
        if (effective is null)
        {
            errors[modelField] = [$"{modelField} is required: {provider.Name} has no default model."];
            return null;
        }

        if (provider.Models.Count > 0 && !provider.Models.Contains(effective, StringComparer.Ordinal))
        {
            errors[modelField] = [$"{modelField} must be one of {string.Join(", ", provider.Models.Select(m => $"\"{m}\""))} for {provider.Name}."];
            return null;
        }

        return (provider.Name, effective);
    }
}
