using Microsoft.AspNetCore.Http.HttpResults;

namespace StitchFin.Tenancy.Infrastructure;

public static class Problems
{
    public static ProblemHttpResult NotFound(string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status404NotFound);
}
