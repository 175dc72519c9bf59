using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using StitchFin.ServiceDefaults.Data;

namespace StitchFin.Metering.Data;

public sealed class MeteringDbContext(DbContextOptions<MeteringDbContext> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(MeteringDbContext).Assembly);
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running database.</summary>
public sealed class MeteringDbContextFactory : IDesignTimeDbContextFactory<MeteringDbContext>
{
    public MeteringDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<MeteringDbContext>();
        DatabaseExtensions.Configure(options, "Host=localhost;Database=stitchfin_metering");
        return new MeteringDbContext(options.Options);
    }
}
