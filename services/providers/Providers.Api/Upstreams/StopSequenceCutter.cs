using System.Text;

namespace StitchFin.Providers.Upstreams;

/// <summary>
/// Ends a reply at the first of the request's stop sequences, for an upstream whose API has none (OpenAI's Responses
/// API): the text passes on as it arrives, except its last few characters, which could begin a stop sequence and wait
/// for the next piece; from the stop sequence on nothing passes, and the sequence itself never does, as with an API
/// that stops there. The upstream's reply is still read to its end, so its usage is what it reports.
/// </summary>
public sealed class StopSequenceCutter : IContentSink
{
    private readonly IContentSink _sink;
    private readonly string[] _stops;
    private readonly int _hold;
    private readonly StringBuilder _held = new();
    private string? _model;

    public StopSequenceCutter(IContentSink sink, IReadOnlyList<string> stops)
    {
        _sink = sink;
        _stops = stops.Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).ToArray();
        _hold = _stops.Length == 0 ? 0 : _stops.Max(s => s.Length) - 1;
    }

    /// <summary>Whether a stop sequence ended the reply.</summary>
    public bool Stopped { get; private set; }

    public async ValueTask OnContentAsync(string model, string text)
    {
        if (Stopped)
        {
            return;
        }

        _model = model;
        _held.Append(text);
        var pending = _held.ToString();
        var stop = FirstStop(pending);
        if (stop >= 0)
        {
            Stopped = true;
            _held.Clear();
            if (stop > 0)
            {
                await _sink.OnContentAsync(model, pending[..stop]);
            }

            return;
        }

        var release = pending.Length - _hold;
        if (release > 0 && char.IsHighSurrogate(pending[release - 1]))
        {
            // Never split a character in two.
            release--;
        }

        if (release > 0)
        {
            _held.Remove(0, release);
            await _sink.OnContentAsync(model, pending[..release]);
        }
    }

    /// <summary>Passes on what was held back, at the end of a complete reply.</summary>
    /// <returns>Whether a stop sequence ended the reply.</returns>
    public async ValueTask<bool> FinishAsync()
    {
        if (!Stopped && _held.Length > 0)
        {
            var rest = _held.ToString();
            _held.Clear();
            await _sink.OnContentAsync(_model!, rest);
        }

        return Stopped;
    }

    private int FirstStop(string text)
    {
        var first = -1;
        foreach (var stop in _stops)
        {
            var at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first))
            {
                first = at;
            }
        }

        return first;
    }
}
