using StitchFin.Providers.Upstreams;

namespace StitchFin.Providers.Tests.Protocols;

/// <summary>A reply cut at its first stop sequence for an API that has none, piece by piece as a stream brings it.</summary>
public sealed class StopSequenceCutterTests
{
    public static TheoryData<string[], string[], string[], bool> Cases => new()
    {
        // pieces, stop sequences, what passes on (piece by piece, the held-back rest at the end), stopped
        { ["The quick ", "brown fox ", "jumps"], ["fox"], ["The quic", "k brown "], true },
        { ["Alpha ", "beta"], ["END"], ["Alph", "a be", "ta"], false },
        { ["one EN", "D two"], ["END"], ["one "], true },
        { ["STOP at once"], ["STOP"], [], true },
        { ["a", "b", "c"], ["xyz"], ["a", "bc"], false },
        { ["ab", "cd"], ["d", "bc"], ["a"], true },
        { ["no sequences"], ["", ""], ["no sequences"], false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task The_reply_ends_before_the_first_stop_sequence(string[] pieces, string[] stops, string[] passed, bool stopped)
    {
        var sink = new Collected();
        var cutter = new StopSequenceCutter(sink, stops);

        foreach (var piece in pieces)
        {
            await cutter.OnContentAsync("m", piece);
        }

        Assert.Equal(stopped, await cutter.FinishAsync());
        Assert.Equal(passed, sink.Pieces);
        Assert.Equal(stopped, cutter.Stopped);
    }

    [Fact]
    public async Task A_character_outside_the_basic_plane_is_never_split()
    {
        var sink = new Collected();
        var cutter = new StopSequenceCutter(sink, ["ab"]);

        await cutter.OnContentAsync("m", "x\U0001F600");
        await cutter.FinishAsync();

        Assert.Equal(["x", "\U0001F600"], sink.Pieces);
    }

    private sealed class Collected : IContentSink
    {
        public List<string> Pieces { get; } = [];

        public ValueTask OnContentAsync(string model, string text)
        {
            Pieces.Add(text);
            return ValueTask.CompletedTask;
        }
    }
}
