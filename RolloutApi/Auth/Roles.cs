using AgentAspire.Contracts;

namespace RolloutApi.Auth;

/// <summary>Authorization policy names; every <c>/api</c> endpoint requires one of them.</summary>
public static class AuthPolicies
{
    /// <summary>Read access: a viewer or an operator credential.</summary>
    public const string Viewer = Roles.Viewer;

    /// <summary>Mutations: an operator credential.</summary>
    public const string Operator = Roles.Operator;
}
