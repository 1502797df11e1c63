using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ServiceDefaults.Http;

/// <summary>
/// Caps a request body: a declared Content-Length above the limit is refused before the body is read, and a chunked body
/// is cut off while it is read. Both throw a 413 <see cref="BadHttpRequestException"/>, which the problem exception handler
/// (or a reader that catches it) turns into <see cref="BadRequestProblems.TooLarge"/>. Done in the request pipeline rather
/// than with Kestrel's limit so that it holds on every server (including the in-memory test server) and reads the same in
/// every environment.
/// </summary>
public static class RequestBodyLimit
{
    /// <summary>Applies <paramref name="maxBytes"/> to <paramref name="request"/>'s body (throws at once for a declared larger one).</summary>
    public static void Apply(HttpRequest request, long maxBytes)
    {
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        request.Body = new LimitedReadStream(request.Body, maxBytes);
    }

    /// <summary>A middleware applying <paramref name="maxBytes"/> to every request.</summary>
    public static IApplicationBuilder UseRequestBodyLimit(this IApplicationBuilder app, long maxBytes) =>
        app.Use((context, next) =>
        {
            Apply(context.Request, maxBytes);
            return next(context);
        });

    private static BadHttpRequestException TooLarge(long maxBytes) =>
        new($"The body must be at most {maxBytes} bytes.", StatusCodes.Status413PayloadTooLarge);

    private sealed class LimitedReadStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int read)
        {
            _read += read;
            return _read > limit ? throw TooLarge(limit) : read;
        }
    }
}
