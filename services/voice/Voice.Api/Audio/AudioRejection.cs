using Microsoft.AspNetCore.Http.HttpResults;

namespace StitchFin.Voice.Audio;

/// <summary>Why an upload cannot be heard; becomes a problem response with this status.</summary>
public sealed record AudioRejection(int Status, string Title, string Detail)
{
    public static AudioRejection TooLarge(string detail) => new(StatusCodes.Status413PayloadTooLarge, "Audio too large", detail);

    public static AudioRejection NotWav(string detail) => new(StatusCodes.Status415UnsupportedMediaType, "Unsupported audio format", detail);

    public static AudioRejection Invalid(string detail) => new(StatusCodes.Status400BadRequest, "Invalid audio", detail);

    public ProblemHttpResult ToProblem() => TypedResults.Problem(detail: Detail, statusCode: Status, title: Title);
}
