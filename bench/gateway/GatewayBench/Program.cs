using GatewayBench;

return args.FirstOrDefault() switch
{
    "stub" => await RoutingStub.RunAsync(Arguments.Parse(args[1..])),
    "propagation" => await PropagationProbe.RunAsync(Arguments.Parse(args[1..])),
    "yarp" => await BareYarp.RunAsync(Arguments.Parse(args[1..])),
    "load" => await OpenLoopLoad.RunAsync(Arguments.Parse(args[1..])),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: GatewayBench stub --port P [--weight W] [--agent NAME]
               GatewayBench propagation --gateway URL --control URL [--key K] [--agent NAME]
                                        [--stable-port P] [--canary-port P] [--flips N] [--concurrency C]
               GatewayBench yarp --port P --stable URL --canary URL [--weight W]
               GatewayBench load --url URL --rate R [--duration S] [--warmup S] [--connections C] [--body JSON]
        """);
    return 2;
}
