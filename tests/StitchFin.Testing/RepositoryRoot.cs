namespace StitchFin.Testing;

public static class RepositoryRoot
{
    /// <summary>The folder holding StitchFin.sln, found from the test assembly's location.</summary>
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "StitchFin.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("StitchFin.sln not found above " + AppContext.BaseDirectory);
    }
}
