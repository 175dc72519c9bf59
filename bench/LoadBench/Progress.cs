using System.Diagnostics;

namespace StitchFin.LoadBench;

/// <summary>Progress goes to stderr so stdout holds only the Markdown report.</summary>
public static class Progress
{
    private static readonly long Started = Stopwatch.GetTimestamp();

    public static void Write(string message) =>
        Console.Error.WriteLine($"[bench {Stopwatch.GetElapsedTime(Started).TotalSeconds,6:0.0}s] {message}");
}
