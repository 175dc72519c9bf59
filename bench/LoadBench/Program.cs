using System.Globalization;
using StitchFin.LoadBench;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

if (!BenchOptions.TryParse(args, out var options, out var problem))
{
    if (problem is null)
    {
        Console.WriteLine(BenchOptions.Usage);
        return 0;
    }

    Console.Error.WriteLine(problem);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // Let the run unwind so the system it started is stopped and its databases are dropped.
    e.Cancel = true;
    cancel.Cancel();
};

return await Bench.RunAsync(options!, Console.Out, cancel.Token);
