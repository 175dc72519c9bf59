using StitchFin.Contracts.Providers;
using StitchFin.ServiceDefaults.Http;

namespace StitchFin.Conversation.Agents;

public static class AgentValidator
{
    public const int MaxNameLength = 100;
    public const int MaxSystemPromptLength = 8000;

    private static readonly string[] Providers = [ProviderNames.VendorA, ProviderNames.VendorB];
    private static readonly string ProviderList = string.Join(", ", Providers.Select(p => $"\"{p}\""));

    /// <returns>Errors by camelCase field name; empty when the request is valid.</returns>
    public static Dictionary<string, string[]> Validate(AgentRequest request)
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

        if (request.PrimaryProvider is null)
        {
            errors["primaryProvider"] = [$"primaryProvider is required: one of {ProviderList}."];
        }
        else if (!Providers.Contains(request.PrimaryProvider))
        {
            errors["primaryProvider"] = [$"primaryProvider must be one of {ProviderList}."];
        }

        if (request.FallbackProvider is not null)
        {
            if (!Providers.Contains(request.FallbackProvider))
            {
                errors["fallbackProvider"] = [$"fallbackProvider must be null or one of {ProviderList}."];
            }
            else if (request.FallbackProvider == request.PrimaryProvider)
            {
                errors["fallbackProvider"] = ["fallbackProvider must differ from primaryProvider."];
            }
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
}
