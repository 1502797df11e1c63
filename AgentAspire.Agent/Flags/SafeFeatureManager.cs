using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using AgentAspire.Agent.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;

namespace AgentAspire.Agent.Flags;

/// <summary>
/// The <see cref="IFeatureManager"/> and <see cref="IVariantFeatureManager"/> agents resolve: the library's
/// <see cref="FeatureManager"/>, except that an evaluation never throws. A flag that cannot be evaluated (a filter this
/// agent does not have, parameters that do not bind, a conflict) is off and has no variant, as OpenFeature prescribes:
/// a bad flag from RolloutApi must not fail requests.
/// </summary>
internal sealed class SafeFeatureManager(FeatureManager inner, FlagStore store, ILogger<SafeFeatureManager> logger)
    : IFeatureManager, IVariantFeatureManager
{
    // One warning per flag per snapshot: a broken flag on a hot path must not flood the log.
    private readonly ConcurrentDictionary<string, long> _reported = new(StringComparer.OrdinalIgnoreCase);

    async Task<bool> IFeatureManager.IsEnabledAsync(string feature)
    {
        try
        {
            return await inner.IsEnabledAsync(feature).ConfigureAwait(false);
        }
        #pragma warning disable CA1031 // a flag evaluation must never fail the request: any error answers the flag's safe default, logged and counted
        catch (Exception e)
        #pragma warning restore CA1031
        {
            return Failed(feature, e, false);
        }
    }

    async Task<bool> IFeatureManager.IsEnabledAsync<TContext>(string feature, TContext context)
    {
        try
        {
            return await inner.IsEnabledAsync(feature, context).ConfigureAwait(false);
        }
        #pragma warning disable CA1031 // a flag evaluation must never fail the request: any error answers the flag's safe default, logged and counted
        catch (Exception e)
        #pragma warning restore CA1031
        {
            return Failed(feature, e, false);
        }
    }

    IAsyncEnumerable<string> IFeatureManager.GetFeatureNamesAsync() => GetFeatureNamesAsync(CancellationToken.None);

    public async ValueTask<bool> IsEnabledAsync(string feature, CancellationToken cancellationToken = default)
    {
        try
        {
            return await inner.IsEnabledAsync(feature, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed(feature, e, false);
        }
    }

    public async ValueTask<bool> IsEnabledAsync<TContext>(string feature, TContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await inner.IsEnabledAsync(feature, context, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed(feature, e, false);
        }
    }

    public async ValueTask<Variant> GetVariantAsync(string feature, CancellationToken cancellationToken = default)
    {
        try
        {
            return await inner.GetVariantAsync(feature, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed<Variant>(feature, e, null!);
        }
    }

    public async ValueTask<Variant> GetVariantAsync(string feature, ITargetingContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await inner.GetVariantAsync(feature, context, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed<Variant>(feature, e, null!);
        }
    }

    public async IAsyncEnumerable<string> GetFeatureNamesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Collected first: an iterator cannot yield from inside a catch-protected block.
        var names = new List<string>();
        try
        {
            await foreach (var name in inner.GetFeatureNamesAsync(cancellationToken).ConfigureAwait(false))
            {
                names.Add(name);
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            FlagsLog.FeatureNamesFailed(logger, e);
        }

        foreach (var name in names)
        {
            yield return name;
        }
    }

    private T Failed<T>(string? feature, Exception exception, T fallback)
    {
        var key = feature ?? string.Empty;
        var generation = store.State.Generation;
        if (!_reported.TryGetValue(key, out var reported) || reported != generation)
        {
            _reported[key] = generation;
            FlagsLog.EvaluationFailed(logger, exception, key);
        }

        return fallback;
    }
}
