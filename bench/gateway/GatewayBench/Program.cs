using GatewayBench;

return args.FirstOrDefault() switch
{
    "stub" => await RoutingStub.RunAsync(Arguments.Parse(args[1..])),
    "propagation" => await PropagationProbe.RunAsync(Arguments.Parse(args[1..])),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: GatewayBench stub --port P [--weight W] [--agent NAME]
               GatewayBench propagation --gateway URL --control URL [--key K] [--agent NAME]
                                        [--stable-port P] [--canary-port P] [--flips N] [--concurrency C]
        """);
    return 2;
}
