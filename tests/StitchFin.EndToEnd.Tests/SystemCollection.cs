namespace StitchFin.EndToEnd.Tests;

/// <summary>One running system shared by the end-to-end tests that do not stop services.</summary>
[CollectionDefinition(Name)]
public sealed class SystemCollection : ICollectionFixture<StitchFinSystem>
{
    public const string Name = "system";
}
