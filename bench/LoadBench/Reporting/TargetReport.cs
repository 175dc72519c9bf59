namespace StitchFin.LoadBench.Reporting;

/// <summary>The targets with the measured value and PASS/MISS. Informational: the exit code ignores it.</summary>
public sealed class TargetReport
{
    private readonly MarkdownTable _table = new("Target", "Goal", "Measured>", "Result");

    public void Add(string target, string goal, string measured, bool? met, string? note = null)
    {
        var result = met switch
        {
            true => "PASS",
            false => "MISS",
            null => "n/a",
        };
        _table.Add(target, goal, measured, note is null ? result : $"{result} ({note})");
    }

    public void WriteTo(TextWriter output)
    {
        output.WriteLine("## Targets");
        output.WriteLine();
        _table.WriteTo(output);
    }
}
