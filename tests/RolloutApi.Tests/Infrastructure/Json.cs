using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RolloutApi.Tests.Infrastructure;

/// <summary>The API's JSON conventions (web defaults, enums as strings) for reading responses in tests.</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    public static async Task<T> ReadAsync<T>(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<T>(Options).WaitAsync(Deadline.Request))!;

    public static StringContent Body(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    public static StringContent Body(object value) => Body(JsonSerializer.Serialize(value, Options));
}
