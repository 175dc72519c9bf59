using System.Globalization;
using System.Text;
using System.Text.Json;
using StitchFin.Contracts.Providers;
using StitchFin.Conversation.OpenAi;

namespace StitchFin.Conversation.Translation;

/// <summary>
/// The fields OpenAI's two request shapes (chat completions and responses) share, read into the common model with
/// OpenAI's 400s: optional scalars, text parts, function tools, <c>tool_choice</c> and the sampling options. Each
/// API names its own fields (<c>max_tokens</c> or <c>max_output_tokens</c>) and nesting (a chat tool's
/// <c>function</c> object, a response tool's own properties); the rules are these.
/// </summary>
public static class OpenAiFields
{
    public const int MaxStopSequences = 4;

    public static (string? Value, OpenAiError? Error) OptionalString(JsonElement parent, string name, string? param = null) =>
        !parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? (null, null)
        : value.ValueKind == JsonValueKind.String ? (value.GetString(), null)
        : (null, OpenAiError.BadRequest($"'{param ?? name}' must be a string.", param ?? name, "invalid_type"));

    public static (bool Value, OpenAiError? Error) OptionalBoolean(JsonElement parent, string name, bool fallback, string? param = null) =>
        !parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? (fallback, null)
        : value.ValueKind is JsonValueKind.True or JsonValueKind.False ? (value.GetBoolean(), null)
        : (fallback, OpenAiError.BadRequest($"'{param ?? name}' must be a boolean.", param ?? name, "invalid_type"));

    public static (double? Value, OpenAiError? Error) OptionalNumber(JsonElement parent, string name, double min, double max) =>
        !parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? (null, null)
        : value.TryGetDouble(out var number) && number >= min && number <= max ? (number, null)
        : (null, OpenAiError.BadRequest(
            $"'{name}' must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}.", name, "invalid_value"));

    public static (int? Value, OpenAiError? Error) OptionalPositiveInteger(JsonElement parent, string name) =>
        !parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? (null, null)
        : value.TryGetInt32(out var number) && number >= 1 ? (number, null)
        : (null, OpenAiError.BadRequest($"'{name}' must be a positive integer.", name, "invalid_value"));

    public static OpenAiError? RequiredString(JsonElement parent, string name, string param, out string? value)
    {
        value = parent.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.String ? element.GetString() : null;
        return string.IsNullOrEmpty(value)
            ? OpenAiError.BadRequest($"'{param}.{name}' is required.", $"{param}.{name}", "missing_required_parameter")
            : null;
    }

    /// <summary>
    /// A content value: a string, or a list of text parts whose <c>type</c> is one of <paramref name="partTypes"/>,
    /// joined with newlines. Images, audio and files have nowhere to go: a 400 naming the part.
    /// </summary>
    public static (string? Text, OpenAiError? Error) Text(JsonElement content, string param, params string[] partTypes)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return (content.GetString()!, null);
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return (null, OpenAiError.BadRequest($"'{param}' must be a string or a list of text parts.", param, "invalid_type"));
        }

        var text = new StringBuilder();
        var index = 0;
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object
                || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || !partTypes.Contains(type.GetString())
                || !part.TryGetProperty("text", out var partText) || partText.ValueKind != JsonValueKind.String)
            {
                return (null, OpenAiError.BadRequest(
                    $"'{param}[{index}]' must be a text part ({string.Join(", ", partTypes)}); images, audio and files are not supported.",
                    $"{param}[{index}]", "unsupported_content"));
            }

            text.Append(index > 0 ? "\n" : "").Append(partText.GetString());
            index++;
        }

        return (text.ToString(), null);
    }

    /// <summary>
    /// <c>tools</c>: function tools only. <paramref name="function"/> finds a tool's name, description and parameters
    /// (a chat tool nests them in <c>function</c>; a response tool holds them itself).
    /// </summary>
    public static (IReadOnlyList<ToolDefinition>? Tools, OpenAiError? Error) Tools(JsonElement root, Func<JsonElement, JsonElement?> function)
    {
        if (!root.TryGetProperty("tools", out var toolsElement) || toolsElement.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }

        if (toolsElement.ValueKind != JsonValueKind.Array)
        {
            return (null, OpenAiError.BadRequest("'tools' must be a list of function tools.", "tools", "invalid_type"));
        }

        var tools = new List<ToolDefinition>();
        foreach (var tool in toolsElement.EnumerateArray())
        {
            var param = $"tools[{tools.Count}]";
            if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("type", out var type) || type.GetString() != "function")
            {
                return (null, OpenAiError.BadRequest($"'{param}' must be a function tool; built-in tools are not supported.", $"{param}.type", "unsupported_tool"));
            }

            if (function(tool) is not { ValueKind: JsonValueKind.Object } definition)
            {
                return (null, OpenAiError.BadRequest($"'{param}.function' is required.", $"{param}.function", "missing_required_parameter"));
            }

            if (RequiredString(definition, "name", param, out var name) is { } nameError)
            {
                return (null, nameError);
            }

            if (tools.Any(t => t.Name == name))
            {
                return (null, OpenAiError.BadRequest($"'{param}.name': the tool '{name}' is defined twice.", $"{param}.name", "invalid_value"));
            }

            var description = definition.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            JsonElement? parameters = definition.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object ? p.Clone() : null;
            tools.Add(new ToolDefinition(name!, description, parameters));
        }

        return (tools, null);
    }

    /// <summary>
    /// <c>tool_choice</c>: <c>auto</c>, <c>none</c>, <c>required</c> (with tools), or a function of the tools named
    /// where <paramref name="functionName"/> finds it (<c>{"type":"function","function":{"name"}}</c> in a chat,
    /// <c>{"type":"function","name"}</c> in a response).
    /// </summary>
    public static (ToolChoice? Choice, OpenAiError? Error) ToolChoiceOf(
        JsonElement root, IReadOnlyList<ToolDefinition>? tools, Func<JsonElement, string?> functionName)
    {
        if (!root.TryGetProperty("tool_choice", out var toolChoice) || toolChoice.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }

        var choice = toolChoice.ValueKind switch
        {
            JsonValueKind.String when toolChoice.GetString() is ToolChoice.Auto or ToolChoice.None or ToolChoice.Required =>
                new ToolChoice(toolChoice.GetString()!),
            JsonValueKind.Object when toolChoice.TryGetProperty("type", out var t) && t.GetString() == "function" && functionName(toolChoice) is { } name =>
                new ToolChoice(ToolChoice.Function, name),
            _ => null,
        };
        return choice is null || (choice.Mode == ToolChoice.Function && tools?.Any(t => t.Name == choice.Name) != true)
            || (choice.Mode == ToolChoice.Required && tools is not { Count: > 0 })
            ? (null, OpenAiError.BadRequest(
                "'tool_choice' must be auto, none, required (with tools) or a function naming one of the tools.", "tool_choice", "invalid_value"))
            : (choice, null);
    }

    /// <summary>The sampling options both shapes share: <c>temperature</c> 0-2, <c>top_p</c> 0-1, and <c>stop</c> (chat only).</summary>
    public static (GenerationOptions? Options, OpenAiError? Error) Options(JsonElement root, int? maxOutputTokens, ToolChoice? toolChoice, bool readStop)
    {
        var (temperature, temperatureError) = OptionalNumber(root, "temperature", 0, 2);
        var (topP, topPError) = OptionalNumber(root, "top_p", 0, 1);
        if ((temperatureError ?? topPError) is { } numberError)
        {
            return (null, numberError);
        }

        IReadOnlyList<string>? stop = null;
        if (readStop && root.TryGetProperty("stop", out var stopElement) && stopElement.ValueKind != JsonValueKind.Null)
        {
            stop = stopElement.ValueKind switch
            {
                JsonValueKind.String when stopElement.GetString()!.Length > 0 => [stopElement.GetString()!],
                JsonValueKind.Array when stopElement.GetArrayLength() <= MaxStopSequences
                    && stopElement.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String && s.GetString()!.Length > 0) =>
                    stopElement.EnumerateArray().Select(s => s.GetString()!).ToArray(),
                _ => null,
            };
            if (stop is null)
            {
                return (null, OpenAiError.BadRequest($"'stop' must be a non-empty string or a list of up to {MaxStopSequences} of them.", "stop", "invalid_value"));
            }
        }

        return (new GenerationOptions(maxOutputTokens, temperature, topP, stop is { Count: > 0 } ? stop : null, toolChoice), null);
    }
}
