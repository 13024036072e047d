import { testKafkaBrokers } from "@postline/testkit";
import { openBus, type Bus } from "../src/index.ts";
import { busContract } from "./bus-contract.ts";
import { KAFKA_TEST_OPTIONS, kafkaChildOptions } from "./test-options.ts";

const buses: Bus[] = [];

const closeAll = async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
};

busContract({
  name: "KafkaBus on Kafka",
  multiProcess: true,
  sessionTimeoutMs: KAFKA_TEST_OPTIONS.sessionTimeoutMs,
  async setup() {},
  teardown: closeAll,
  async open() {
    const bus = openBus({ kind: "kafka", brokers: testKafkaBrokers(), clientId: "bus-test", ...KAFKA_TEST_OPTIONS });
    buses.push(bus);
    return bus;
  },
  closeAll,
  async handOver() {},
  async takeBack() {},
  childConfig: () => ({ kind: "kafka", brokers: testKafkaBrokers(), ...kafkaChildOptions }),
});
