using System.Text;

namespace StitchFin.LoadBench.Reporting;

/// <summary>A GitHub Markdown table with padded columns, so it reads well in a terminal and pastes into docs.</summary>
public sealed class MarkdownTable
{
    private readonly string[] _headers;
    private readonly bool[] _rightAligned;
    private readonly List<string[]> _rows = [];

    /// <param name="headers">Column titles; a title ending in '>' is right-aligned (the '>' is not printed).</param>
    public MarkdownTable(params string[] headers)
    {
        _rightAligned = headers.Select(h => h.EndsWith('>')).ToArray();
        _headers = headers.Select(h => h.TrimEnd('>')).ToArray();
    }

    public MarkdownTable Add(params string[] cells)
    {
        if (cells.Length != _headers.Length)
        {
            throw new ArgumentException($"Expected {_headers.Length} cells, got {cells.Length}.", nameof(cells));
        }

        _rows.Add(cells);
        return this;
    }

    public void WriteTo(TextWriter output)
    {
        var widths = _headers.Select((h, i) => Math.Max(3, _rows.Select(r => r[i].Length).Append(h.Length).Max())).ToArray();
        output.WriteLine(Line(_headers, widths));
        output.WriteLine("|" + string.Join("|", widths.Select((w, i) => _rightAligned[i] ? " " + new string('-', w - 1) + ": " : " " + new string('-', w) + " ")) + "|");
        foreach (var row in _rows)
        {
            output.WriteLine(Line(row, widths));
        }

        output.WriteLine();
        output.Flush();
    }

    private string Line(string[] cells, int[] widths)
    {
        var line = new StringBuilder("|");
        for (var i = 0; i < cells.Length; i++)
        {
            line.Append(' ').Append(_rightAligned[i] ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i])).Append(" |");
        }

        return line.ToString();
    }
}
