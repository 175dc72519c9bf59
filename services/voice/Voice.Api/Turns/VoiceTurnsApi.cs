using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using StitchFin.Contracts.Conversation;
using StitchFin.Voice.Audio;
using StitchFin.Voice.Speech;

namespace StitchFin.Voice.Turns;

/// <summary><c>POST /sessions/{id}/voice</c>: a spoken turn in, the assistant's spoken reply out.</summary>
public static class VoiceTurnsApi
{
    public const string WavContentType = "audio/wav";
    public const string TranscriptHeader = "X-Transcript";
    public const string ReplyTextHeader = "X-Reply-Text";
    public const string MessageIdHeader = "X-Session-Message-Id";

    public static RouteGroupBuilder MapVoiceTurnsApi(this IEndpointRouteBuilder app)
    {
        var sessions = app.MapGroup("/sessions");
        sessions.MapPost("/{id:guid}/voice", TakeVoiceTurn);
        return sessions;
    }

    public static async Task<Results<FileContentHttpResult, Ok<VoiceTurnResponse>, ProblemHttpResult, ValidationProblem, PassThroughResult>> TakeVoiceTurn(
        Guid id,
        HttpContext context,
        MockSpeechToText speechToText,
        ConversationClient conversation,
        ISpeechSynthesizer speech,
        CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (IdempotencyKeys.Validate(request.Headers[ConversationClient.IdempotencyKeyHeader]) is { } keyErrors)
        {
            return TypedResults.ValidationProblem(keyErrors);
        }

        byte[] audio;
        WavInfo wav;
        using (var parse = VoiceTelemetry.Source.StartActivity("voice.parse"))
        {
            var upload = await AudioUpload.ReadAsync(request, cancellationToken);
            var inspection = upload.Audio is null ? null : WavAudio.Inspect(upload.Audio);
            if ((upload.Rejection ?? inspection!.Rejection) is { } rejection)
            {
                parse?.SetStatus(ActivityStatusCode.Error, rejection.Detail);
                return rejection.ToProblem();
            }

            audio = upload.Audio!;
            wav = inspection!.Wav!;
            parse?.SetTag("voice.audio.bytes", audio.Length);
            parse?.SetTag("voice.audio.duration_ms", (long)wav.Duration.TotalMilliseconds);
        }

        string transcript;
        using (var stt = VoiceTelemetry.Source.StartActivity("voice.stt"))
        {
            transcript = speechToText.Transcribe(wav);
            stt?.SetTag("voice.transcript.length", transcript.Length);
        }

        ConversationOutcome outcome;
        using (var call = VoiceTelemetry.Source.StartActivity("voice.conversation"))
        {
            var idempotencyKey = request.Headers[ConversationClient.IdempotencyKeyHeader] is [{ } given] ? given : Guid.NewGuid().ToString();
            var fingerprint = Convert.ToHexStringLower(SHA256.HashData(audio));
            outcome = await conversation.SendAsync(id, idempotencyKey, new InternalMessageRequest(transcript, Channels.Voice, fingerprint), cancellationToken);
            call?.SetTag("voice.session.id", id);
            call?.SetTag("voice.conversation.outcome", outcome.GetType().Name);
        }

        if (outcome is not ConversationOutcome.Exchanged { Exchange: var exchange, Replayed: var replayed })
        {
            return outcome switch
            {
                ConversationOutcome.Refused refused => new PassThroughResult(refused.Status, refused.ContentType, refused.Body, refused.RetryAfter),
                ConversationOutcome.Unreadable unreadable => TypedResults.Problem(
                    detail: $"The spoken turn could not be answered because {unreadable.Reason}.",
                    statusCode: StatusCodes.Status502BadGateway,
                    title: "Conversation answered unreadably"),
                ConversationOutcome.Unavailable unavailable => TypedResults.Problem(
                    detail: $"The spoken turn could not be answered because {unavailable.Reason}; try again shortly.",
                    statusCode: StatusCodes.Status503ServiceUnavailable,
                    title: "Conversation unavailable"),
                _ => throw new UnreachableException($"Unexpected conversation outcome {outcome.GetType().Name}."),
            };
        }

        SynthesizedSpeech reply;
        using (var tts = VoiceTelemetry.Source.StartActivity("voice.tts"))
        {
            reply = await speech.SynthesizeAsync(exchange.AssistantMessage.Content, cancellationToken);
            tts?.SetTag("voice.speech.engine", reply.Engine);
            tts?.SetTag("voice.speech.bytes", reply.Wav.Length);
        }

        return Answer(context, transcript, exchange, replayed, reply);
    }

    /// <summary>The reply as audio/wav with the text in headers, or as JSON when the client asks for it.</summary>
    private static Results<FileContentHttpResult, Ok<VoiceTurnResponse>, ProblemHttpResult, ValidationProblem, PassThroughResult> Answer(
        HttpContext context, string transcript, MessageExchange exchange, bool replayed, SynthesizedSpeech reply)
    {
        var headers = context.Response.Headers;
        headers[TranscriptHeader] = Uri.EscapeDataString(transcript);
        headers[ReplyTextHeader] = Uri.EscapeDataString(exchange.AssistantMessage.Content);
        headers[MessageIdHeader] = exchange.AssistantMessage.Id.ToString();
        if (replayed)
        {
            headers[ConversationClient.ReplayedHeader] = "true";
        }

        if (WantsJson(context.Request))
        {
            return TypedResults.Ok(new VoiceTurnResponse(
                transcript, exchange.AssistantMessage, exchange.Usage, Convert.ToBase64String(reply.Wav), WavContentType));
        }

        return TypedResults.File(reply.Wav, WavContentType);
    }

    /// <summary>JSON when the client accepts application/json at least as much as any audio type.</summary>
    private static bool WantsJson(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        double Quality(Func<MediaTypeHeaderValue, bool> matches) =>
            accept.Where(matches).Select(value => value.Quality ?? 1.0).DefaultIfEmpty(0).Max();

        var json = Quality(value => value.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase));
        var audio = Quality(value => value.MediaType.StartsWith("audio/", StringComparison.OrdinalIgnoreCase));
        return json > 0 && json >= audio;
    }
}
