namespace StitchFin.ServiceDefaults.Http;

/// <summary>
/// Problem types of the gateway's own, <c>urn:stitchfin:problem:{name}</c>, for answers whose status alone does not
/// say what happened (for example the edge failing to reach a service, as opposed to the service's own 503). Under
/// <c>/v1</c> the name, with underscores, is the OpenAI-shaped error's <c>code</c> (<see cref="OpenAiErrorWriter"/>).
/// </summary>
public static class ProblemTypes
{
    public const string Prefix = "urn:stitchfin:problem:";

    /// <summary>The OpenAI-style code of a problem of one of these types (<c>service-unreachable</c> gives <c>service_unreachable</c>), else null.</summary>
    public static string? CodeOf(string? type) =>
        type is not null && type.StartsWith(Prefix, StringComparison.Ordinal) && type.Length > Prefix.Length
            ? type[Prefix.Length..].Replace('-', '_')
            : null;
}
