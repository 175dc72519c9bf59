# conversation service. Build from the repository root: docker build -f deploy/conversation.Dockerfile .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore as its own layer: it reruns only when a project file or a package version changes.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY shared/Contracts/StitchFin.Contracts.csproj shared/Contracts/
COPY shared/ServiceDefaults/StitchFin.ServiceDefaults.csproj shared/ServiceDefaults/
COPY services/conversation/Conversation.Api/Conversation.Api.csproj services/conversation/Conversation.Api/
RUN dotnet restore services/conversation/Conversation.Api/Conversation.Api.csproj
COPY shared/ shared/
COPY services/conversation/Conversation.Api/ services/conversation/Conversation.Api/
RUN dotnet publish services/conversation/Conversation.Api/Conversation.Api.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS final
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    DOTNET_gcServer=0
EXPOSE 8080
# The image's built-in unprivileged user.
USER $APP_UID
ENTRYPOINT ["dotnet", "StitchFin.Conversation.Api.dll"]
