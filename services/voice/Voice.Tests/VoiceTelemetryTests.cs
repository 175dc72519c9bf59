using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace StitchFin.Voice.Tests;

public sealed class VoiceTelemetryTests(VoiceHost host) : IClassFixture<VoiceHost>, IDisposable
{
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private ActivityListener? _listener;

    [Fact]
    public async Task A_turn_records_parse_stt_conversation_and_tts_spans_in_one_trace()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == VoiceTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
        var session = host.Conversation.NewSession();

        using var response = await host.PostWavAsync(session, Recordings.Sine(1), idempotencyKey: $"otel-{session}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var call = Assert.Single(_stopped, a => a.OperationName == "voice.conversation" && Equals(a.GetTagItem("voice.session.id"), session));
        var trace = _stopped.Where(a => a.TraceId == call.TraceId).ToList();
        Assert.Equal(["voice.parse", "voice.stt", "voice.conversation", "voice.tts"], trace.Select(a => a.OperationName));
        Assert.Equal(1000L, trace[0].GetTagItem("voice.audio.duration_ms"));
        var tts = trace[3];
        Assert.Equal("beep", tts.GetTagItem("voice.speech.engine"));
    }

    public void Dispose() => _listener?.Dispose();
}
