using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Data.Sqlite;
using RolloutApi.Storage;

namespace RolloutApi.Http;

/// <summary>
/// The database cannot take a write right now (disk full, file or file system read-only, I/O error, locked past the busy
/// timeout): 503 problem details with <c>Retry-After</c>, instead of a 500. SQLite rolls the failed transaction back, so
/// nothing is half-written, and the next write after space returns succeeds without a restart.
/// </summary>
internal sealed partial class StorageUnavailableExceptionHandler(
    IProblemDetailsService problems, SqliteDatabase database, ILogger<StorageUnavailableExceptionHandler> logger)
    : IExceptionHandler
{
    private const int RetryAfterSeconds = 5;
    private const int ReadOnly = 8;  // SQLITE_READONLY
    private const int IoError = 10;  // SQLITE_IOERR

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (Find(exception) is not { } sqlite || Describe(sqlite.SqliteErrorCode) is not { } reason)
        {
            return false;
        }

        // A read-only file shows up as SQLITE_READONLY on a connection opened after it became read-only, and as a plain
        // SQLITE_IOERR_WRITE on one opened before; either way the operator should read "read-only", not "I/O error".
        if (sqlite.SqliteErrorCode is ReadOnly or IoError && database.DescribeReadOnly() is { } readOnly)
        {
            reason = readOnly;
        }

        LogUnavailable(logger, httpContext.Request.Method, httpContext.Request.Path, reason, sqlite.SqliteErrorCode, sqlite.SqliteExtendedErrorCode);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Storage unavailable",
                Detail = $"RolloutApi cannot write its database ({reason}). Nothing was changed; retry once the operator has fixed it.",
            },
            Exception = exception,
        });
    }

    /// <summary>SQLite primary result codes that mean "the storage, not the request, is the problem".</summary>
    internal static string? Describe(int code) => code switch
    {
        13 => "disk full",                      // SQLITE_FULL
        8 => "database is read-only",           // SQLITE_READONLY
        10 => "disk I/O error",                 // SQLITE_IOERR
        14 => "cannot open the database file",  // SQLITE_CANTOPEN
        5 or 6 => "database is locked",         // SQLITE_BUSY, SQLITE_LOCKED (after the busy timeout)
        _ => null,
    };

    private static SqliteException? Find(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is SqliteException sqlite)
            {
                return sqlite;
            }
        }

        return null;
    }

    [LoggerMessage(EventId = 3700, Level = LogLevel.Error, Message = "{Method} {Path}: storage unavailable ({Reason}, SQLite {Code}/{ExtendedCode}); answered 503.")]
    private static partial void LogUnavailable(ILogger logger, string method, PathString path, string reason, int code, int extendedCode);
}
