namespace StitchFin.Tenancy.Tenants;

public sealed class Tenant
{
    public const int MaxNameLength = 100;

    public Guid Id { get; init; }

    public required string Name { get; set; }

    public DateTimeOffset CreatedAt { get; init; }
}
