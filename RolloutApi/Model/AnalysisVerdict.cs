using System.Text.Json.Serialization;

namespace RolloutApi.Model;

/// <summary>An analysis verdict. Inconclusive means too little data: the rollout pauses, it never fails on no data.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AnalysisVerdict>))]
public enum AnalysisVerdict
{
    Pass,
    Fail,
    Inconclusive,
}
