using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using StitchFin.ServiceDefaults.Data;
using StitchFin.ServiceDefaults.Outbox;
using StitchFin.Tenancy.Keys;
using StitchFin.Tenancy.Tenants;

namespace StitchFin.Tenancy.Data;

public sealed class TenancyDbContext(DbContextOptions<TenancyDbContext> options) : DbContext(options)
{
    public DbSet<Tenant> Tenants => Set<Tenant>();

    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(TenancyDbContext).Assembly);
        modelBuilder.AddOutbox();
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running database.</summary>
public sealed class TenancyDbContextFactory : IDesignTimeDbContextFactory<TenancyDbContext>
{
    public TenancyDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<TenancyDbContext>();
        DatabaseExtensions.Configure(options, "Host=localhost;Database=stitchfin_tenancy");
        return new TenancyDbContext(options.Options);
    }
}
