using StitchFin.ServiceDefaults.Http;

namespace StitchFin.Tenancy.Infrastructure;

/// <summary>The one rule for tenant and key names: 1-100 characters after trimming; stored trimmed.</summary>
public static class Names
{
    /// <returns>Errors keyed by the camelCase field name, or null when the name is valid.</returns>
    public static Dictionary<string, string[]>? Validate(string? name, int maxLength) => name?.Trim().Length switch
    {
        null or 0 => new() { ["name"] = ["The name is required."] },
        var length when length > maxLength => new() { ["name"] = [$"The name must be at most {maxLength} characters."] },
        _ => TextRules.Problem(name!, multiline: false) is { } problem ? new() { ["name"] = [$"The name {problem}."] } : null,
    };
}
