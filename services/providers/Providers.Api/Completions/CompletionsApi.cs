using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using StitchFin.Contracts.Providers;
using StitchFin.Providers.Catalog;
using StitchFin.Providers.Upstreams;
using StitchFin.ServiceDefaults.Http;
using StitchFin.ServiceDefaults.Identity;
using JsonDefaults = StitchFin.ServiceDefaults.Extensions;

namespace StitchFin.Providers.Completions;

/// <summary>The normalized completion API the conversation service calls on behalf of a tenant.</summary>
public static class CompletionsApi
{
    /// <summary>The conversation as one text: a long chain of responses grows it, the edge's body limit bounds each request.</summary>
    public const int MaxUserContentLength = 1_000_000;
    public const int MaxSystemPromptLength = 8_000;
    public const int MaxTools = 128;

    public static RouteGroupBuilder MapCompletionsApi(this IEndpointRouteBuilder app)
    {
        // Conversation calls with its own service identity, acting for the tenant.
        var group = app.MapGroup("/internal").WithTags("Completions").RequireAuthorization(InternalPolicies.TenantOrService);
        group.MapPost("/completions", Complete);
        group.MapGet("/circuits", ListCircuits);
        return group;
    }

    /// <summary>
    /// A whole completion as JSON, or with <c>Accept: text/event-stream</c> a stream that begins only with the first
    /// content: until then every failure (and a refused request) is an ordinary problem answer.
    /// </summary>
    public static async Task<Results<Ok<CompletionResult>, ProblemHttpResult, ValidationProblem, EmptyHttpResult>> Complete(
        CompletionRequest request,
        ProviderCatalog catalog,
        CompletionEngine engine,
        HttpContext context)
    {
        var (targets, errors) = Resolve(request, catalog);
        if (errors is not null)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var normalized = new NormalizedRequest(
            request.SystemPrompt ?? "", request.UserContent, request.Turns ?? [new ChatTurn(ChatRoles.User, request.UserContent)], request.Tools, request.Options);
        var stream = AcceptsEventStream(context.Request) ? new EventStream(context.Response) : null;
        var outcome = await engine.CompleteAsync(targets!, normalized, stream is null ? null : new CompletionEvents(stream), context.RequestAborted);
        if (stream is null || (!stream.Started && outcome.Failure is not null))
        {
            return outcome.Result is { } result ? TypedResults.Ok(result) : Failed(outcome.Failure!);
        }

        if (outcome.Result is { } completed)
        {
            if (!stream.Started)
            {
                // A reply with no content never committed; its stream still begins with who answered.
                await new CompletionEvents(stream).StartAsync(new StreamStart(completed.Provider, completed.Model, completed.FallbackUsed));
            }

            await stream.WriteAsync(CompletionStreamEvents.Completed, JsonSerializer.SerializeToUtf8Bytes(completed, JsonDefaults.JsonOptions));
        }
        else
        {
            await stream.WriteAsync(CompletionStreamEvents.Failed, JsonSerializer.SerializeToUtf8Bytes(outcome.Failure!, JsonDefaults.JsonOptions));
        }

        return TypedResults.Empty;
    }

    public static Ok<CircuitStatus[]> ListCircuits(TargetPipelines pipelines) =>
        TypedResults.Ok(pipelines.All
            .OrderBy(p => p.Provider, StringComparer.Ordinal).ThenBy(p => p.Model, StringComparer.Ordinal)
            .Select(p => new CircuitStatus(p.Provider, p.Model, Telemetry.ProvidersTelemetry.CircuitStateName(p.CircuitState)))
            .ToArray());

    /// <summary>Every failure is a 502 problem; what happened is in its extensions (a <see cref="CompletionFailed"/>).</summary>
    private static ProblemHttpResult Failed(CompletionFailed failure) =>
        TypedResults.Problem(
            detail: failure.Detail,
            statusCode: StatusCodes.Status502BadGateway,
            title: failure.Reason == CompletionFailureReasons.Rejected ? "The provider refused the request" : "Every provider failed",
            extensions: new Dictionary<string, object?>
            {
                ["attempts"] = failure.Attempts,
                ["reason"] = failure.Reason,
                ["upstreamStatus"] = failure.UpstreamStatus,
                ["upstreamError"] = failure.UpstreamError,
            });

    private static bool AcceptsEventStream(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(EventStream.ContentType, StringComparison.OrdinalIgnoreCase));

    /// <summary>The request's targets (primary, then fallback) from the catalogue, or what is wrong with it.</summary>
    public static (IReadOnlyList<Target>? Targets, Dictionary<string, string[]>? Errors) Resolve(CompletionRequest request, ProviderCatalog catalog)
    {
        var errors = new Dictionary<string, string[]>();
        var known = string.Join(", ", catalog.Names);
        var primary = Target(request.PrimaryProvider, request.PrimaryModel, "primary", catalog, known, errors, required: true);
        var fallback = Target(request.FallbackProvider, request.FallbackModel, "fallback", catalog, known, errors, required: false);
        if (primary is not null && fallback is not null && primary.Provider == fallback.Provider && primary.Model == fallback.Model)
        {
            errors["fallbackModel"] = ["The fallback must differ from the primary: another provider, or another model of the same provider."];
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

        if (request.Turns is { } turns && TurnsProblem(turns) is { } turnsProblem)
        {
            errors["turns"] = [turnsProblem];
        }

        if (request.Tools is { } tools && ToolsProblem(tools) is { } toolsProblem)
        {
            errors["tools"] = [toolsProblem];
        }

        if (request.Options is { } options && OptionsProblem(options, request.Tools) is { } optionsProblem)
        {
            errors["options"] = [optionsProblem];
        }

        return errors.Count > 0 ? (null, errors) : (fallback is null ? [primary!] : [primary!, fallback], null);
    }

    private static string? TurnsProblem(IReadOnlyList<ChatTurn> turns)
    {
        if (turns.Count == 0)
        {
            return "turns must hold at least one turn.";
        }

        foreach (var turn in turns)
        {
            if (turn.Role is not (ChatRoles.System or ChatRoles.User or ChatRoles.Assistant or ChatRoles.Tool))
            {
                return $"A turn's role must be system, user, assistant or tool, not '{turn.Role}'.";
            }

            if (turn.Role == ChatRoles.Tool && string.IsNullOrEmpty(turn.ToolCallId))
            {
                return "A tool turn needs the toolCallId of the call it answers.";
            }

            if (turn.ToolCalls is { Count: > 0 } calls && (turn.Role != ChatRoles.Assistant || calls.Any(c => string.IsNullOrEmpty(c.Id) || string.IsNullOrEmpty(c.Name))))
            {
                return "Only assistant turns carry tool calls, each with an id and a name.";
            }
        }

        return turns.Sum(t => (long)t.Text.Length) > MaxUserContentLength ? $"The turns hold more than {MaxUserContentLength} characters." : null;
    }

    private static string? ToolsProblem(IReadOnlyList<ToolDefinition> tools)
    {
        if (tools.Count > MaxTools)
        {
            return $"At most {MaxTools} tools.";
        }

        if (tools.Any(t => !IsToolName(t.Name)))
        {
            return "A tool's name is 1-64 letters, digits, '_' or '-'.";
        }

        if (tools.Select(t => t.Name).Distinct(StringComparer.Ordinal).Count() != tools.Count)
        {
            return "Tool names must be unique.";
        }

        return tools.Any(t => t.Parameters is { ValueKind: not System.Text.Json.JsonValueKind.Object })
            ? "A tool's parameters must be a JSON schema object."
            : null;
    }

    private static string? OptionsProblem(GenerationOptions options, IReadOnlyList<ToolDefinition>? tools) => options switch
    {
        { MaxOutputTokens: < 1 } => "maxOutputTokens must be at least 1.",
        { Temperature: < 0 or > 2 } => "temperature must be between 0 and 2.",
        { TopP: < 0 or > 1 } => "topP must be between 0 and 1.",
        { Stop.Count: > 4 } => "At most 4 stop sequences.",
        { ToolChoice.Mode: not (ToolChoice.Auto or ToolChoice.None or ToolChoice.Required or ToolChoice.Function) } =>
            "toolChoice must be auto, none, required or function.",
        { ToolChoice: { Mode: ToolChoice.Function, Name: var name } } when tools is null || !tools.Any(t => t.Name == name) =>
            "toolChoice names a function that is not among the tools.",
        { ToolChoice.Mode: ToolChoice.Required } when tools is not { Count: > 0 } => "toolChoice required needs tools.",
        _ => null,
    };

    private static bool IsToolName(string name) =>
        name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    private static Target? Target(
        string? providerName, string? model, string role, ProviderCatalog catalog, string known, Dictionary<string, string[]> errors, bool required)
    {
        if (string.IsNullOrEmpty(providerName))
        {
            if (required)
            {
                errors[$"{role}Provider"] = [$"{role}Provider is required; one of {known}."];
            }
            else if (!string.IsNullOrEmpty(model))
            {
                errors[$"{role}Model"] = [$"{role}Model needs a {role}Provider."];
            }

            return null;
        }

        if (catalog.Find(providerName) is not { } provider)
        {
            errors[$"{role}Provider"] = [$"Unknown provider '{providerName}'; one of {known}."];
            return null;
        }

        if (provider.ResolveModel(model) is not { } resolved)
        {
            errors[$"{role}Model"] = [$"{provider.Name} has no default model: name one."];
            return null;
        }

        if (!provider.Serves(resolved))
        {
            errors[$"{role}Model"] = [$"{provider.Name} serves {string.Join(", ", provider.Models)}, not '{resolved}'."];
            return null;
        }

        return new Target(provider, resolved);
    }

    /// <summary>The stream's start and deltas as server-sent events.</summary>
    private sealed class CompletionEvents(EventStream stream) : ICompletionStream
    {
        /// <summary>Sent with the first delta (or the completion) that always follows it.</summary>
        public ValueTask StartAsync(StreamStart start) =>
            stream.WriteAsync(CompletionStreamEvents.Start, JsonSerializer.SerializeToUtf8Bytes(start, JsonDefaults.JsonOptions), flush: false);

        public ValueTask DeltaAsync(string text) =>
            stream.WriteAsync(CompletionStreamEvents.Delta, JsonSerializer.SerializeToUtf8Bytes(new StreamDelta(text), JsonDefaults.JsonOptions));
    }
}

public sealed record CircuitStatus(string Provider, string Model, string State);
