using System.Buffers;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace StitchFin.Voice.Audio;

/// <summary>The audio bytes of a request, or why there are none.</summary>
public sealed record AudioUploadResult(byte[]? Audio, AudioRejection? Rejection);

/// <summary>
/// Reads the recording from a raw <c>audio/wav</c> body or from the <c>audio</c> field of a multipart form, never
/// holding more than <see cref="AudioLimits.MaxAudioBytes"/> (+1 byte to notice the excess) in memory.
/// </summary>
public static class AudioUpload
{
    public const string FormField = "audio";

    private static readonly string[] WavMediaTypes = ["audio/wav", "audio/x-wav", "audio/wave"];
    private const string MultipartMediaType = "multipart/form-data";
    private const int CopyBufferBytes = 81_920;

    public static async Task<AudioUploadResult> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType) || contentType.MediaType.Value is not { } mediaType)
        {
            return Rejected(AudioRejection.NotWav(
                "Send the recording as a raw audio/wav body or as the 'audio' field of a multipart/form-data body; the request has no usable Content-Type."));
        }

        var isMultipart = mediaType.Equals(MultipartMediaType, StringComparison.OrdinalIgnoreCase);
        if (!isMultipart && !WavMediaTypes.Contains(mediaType, StringComparer.OrdinalIgnoreCase))
        {
            return Rejected(AudioRejection.NotWav(
                $"Content-Type '{mediaType}' is not accepted; send audio/wav (or audio/x-wav, audio/wave) or multipart/form-data with an 'audio' file field."));
        }

        var declaredLimit = isMultipart ? AudioLimits.MaxRequestBytes : AudioLimits.MaxAudioBytes;
        if (request.ContentLength > declaredLimit)
        {
            return Rejected(TooLarge());
        }

        try
        {
            return isMultipart
                ? await ReadMultipartAsync(request, contentType, cancellationToken)
                : await ReadLimitedAsync(request.Body, cancellationToken);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Rejected(AudioRejection.TooLarge(
                $"The request body is larger than the {AudioLimits.MaxRequestBytes} bytes this endpoint reads."));
        }
        catch (Exception e) when (e is InvalidDataException or IOException and not BadHttpRequestException)
        {
            return Rejected(AudioRejection.Invalid($"The request body could not be read: {e.Message}"));
        }
    }

    private static async Task<AudioUploadResult> ReadMultipartAsync(
        HttpRequest request, MediaTypeHeaderValue contentType, CancellationToken cancellationToken)
    {
        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary))
        {
            return Rejected(AudioRejection.Invalid("The multipart/form-data Content-Type has no boundary."));
        }

        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = AudioLimits.MaxRequestBytes };
        byte[]? audio = null;
        while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
        {
            if (!IsAudioField(section))
            {
                continue;
            }

            if (audio is not null)
            {
                return Rejected(AudioRejection.Invalid($"The form has more than one '{FormField}' field; send exactly one recording."));
            }

            var part = await ReadLimitedAsync(section.Body, cancellationToken);
            if (part.Rejection is not null)
            {
                return part;
            }

            audio = part.Audio;
        }

        return audio is null
            ? Rejected(AudioRejection.Invalid($"The multipart form has no '{FormField}' file field."))
            : new AudioUploadResult(audio, null);
    }

    private static bool IsAudioField(MultipartSection section) =>
        ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
        && disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase)
        && string.Equals(HeaderUtilities.RemoveQuotes(disposition.Name).Value, FormField, StringComparison.Ordinal);

    private static async Task<AudioUploadResult> ReadLimitedAsync(Stream body, CancellationToken cancellationToken)
    {
        using var audio = new MemoryStream();
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferBytes);
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, CopyBufferBytes), cancellationToken)) > 0)
            {
                if (audio.Length + read > AudioLimits.MaxAudioBytes)
                {
                    return Rejected(TooLarge());
                }

                audio.Write(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return audio.Length == 0
            ? Rejected(AudioRejection.Invalid("The recording is empty."))
            : new AudioUploadResult(audio.ToArray(), null);
    }

    private static AudioRejection TooLarge() =>
        AudioRejection.TooLarge($"The recording is larger than {AudioLimits.MaxAudioBytes / (1024 * 1024)} MB ({AudioLimits.MaxAudioBytes} bytes).");

    private static AudioUploadResult Rejected(AudioRejection rejection) => new(null, rejection);
}
