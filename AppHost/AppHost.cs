using ServiceDefaults.Contracts;

var builder = DistributedApplication.CreateBuilder(args);

var rolloutApi = builder.AddProject<Projects.RolloutApi>(ResourceNames.RolloutApi)
    .WithHttpHealthCheck("/health");

var stable = builder.AddProject<Projects.AgentWorker>(ResourceNames.AgentStable)
    .WithHttpHealthCheck("/health");

var canary = builder.AddProject<Projects.AgentWorker>(ResourceNames.AgentCanary)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Gateway>(ResourceNames.Gateway)
    .WithReference(stable).WithReference(canary).WithReference(rolloutApi)
    .WaitFor(stable).WaitFor(canary)
    .WithHttpHealthCheck("/health");

builder.Build().Run();
