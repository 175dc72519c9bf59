using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using NAudio.Wave;

namespace StitchFin.EndToEnd.Tests;

[Collection(SystemCollection.Name)]
public sealed class VoiceTests(StitchFinSystem system)
{
    [Fact]
    public async Task A_spoken_turn_comes_back_as_audio_and_lands_in_transcript_and_usage()
    {
        var tenant = await Tenant.CreateAsync(system);
        var agent = (await tenant.CreateAgentAsync())["id"]!.GetValue<Guid>();
        var session = (await tenant.CreateSessionAsync(agent))["id"]!.GetValue<Guid>();

        using var content = new ByteArrayContent(Wav.Sine(TimeSpan.FromSeconds(2)));
        content.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
        using var response = await tenant.Client.PostAsync($"/sessions/{session}/voice", content);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal("audio/wav", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("User said something via voice.", Uri.UnescapeDataString(response.Headers.GetValues("X-Transcript").Single()));
        Assert.StartsWith("[Vendor", Uri.UnescapeDataString(response.Headers.GetValues("X-Reply-Text").Single()));
        var assistantId = Guid.Parse(response.Headers.GetValues("X-Session-Message-Id").Single());
        using (var reader = new WaveFileReader(new MemoryStream(await response.Content.ReadAsByteArrayAsync())))
        {
            Assert.Equal(1, reader.WaveFormat.Channels);
            Assert.True(reader.TotalTime > TimeSpan.Zero);
        }

        var transcript = await tenant.ExpectAsync(HttpMethod.Get, $"/sessions/{session}/transcript", HttpStatusCode.OK);
        var messages = transcript["messages"]!.AsArray();
        Assert.Equal(2, messages.Count);
        Assert.All(messages, m => Assert.Equal("voice", m!["channel"]!.GetValue<string>()));
        Assert.Equal(assistantId, messages[1]!["id"]!.GetValue<Guid>());

        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        for (var attempt = 0; attempt < 40; attempt++)
        {
            var usage = await tenant.ExpectAsync(HttpMethod.Get, $"/usage?from={today.AddDays(-1):yyyy-MM-dd}&to={today.AddDays(1):yyyy-MM-dd}", HttpStatusCode.OK);
            if (usage["totals"]!["messages"]!.GetValue<int>() == 1)
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail("the voice turn never appeared in /usage");
    }

    [Fact]
    public async Task Json_answer_carries_base64_audio()
    {
        var tenant = await Tenant.CreateAsync(system);
        var agent = (await tenant.CreateAgentAsync())["id"]!.GetValue<Guid>();
        var session = (await tenant.CreateSessionAsync(agent))["id"]!.GetValue<Guid>();
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Wav.Sine(TimeSpan.FromMilliseconds(200)));
        file.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
        form.Add(file, "audio", "short.wav");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/sessions/{session}/voice") { Content = form };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await tenant.Client.SendAsync(request);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Please say something.", body["transcript"]!.GetValue<string>());
        Assert.Equal("audio/wav", body["audioContentType"]!.GetValue<string>());
        Assert.NotEmpty(Convert.FromBase64String(body["audioBase64"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Not_a_wav_is_415_and_too_large_is_413()
    {
        var tenant = await Tenant.CreateAsync(system);
        var agent = (await tenant.CreateAgentAsync())["id"]!.GetValue<Guid>();
        var session = (await tenant.CreateSessionAsync(agent))["id"]!.GetValue<Guid>();
        using var random = new ByteArrayContent(Enumerable.Range(0, 4000).Select(i => (byte)(i * 31)).ToArray());
        random.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await tenant.Client.PostAsync($"/sessions/{session}/voice", random)).StatusCode);
        using var huge = new ByteArrayContent(new byte[11 * 1024 * 1024]);
        huge.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await tenant.Client.PostAsync($"/sessions/{session}/voice", huge)).StatusCode);
    }
}
