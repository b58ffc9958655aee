// An external worker written with Camunda's published Node.js client, unchanged
// (npm camunda-external-task-client-js). test_camunda_clients.py runs it against a
// live Laneway server; it prints one JSON line per event on stdout.
//
// WORKER_CONFIG (JSON): baseUrl, username, password, workerId, topic, mode
// (complete | completeLocal | failure | bpmnError | hold), lockDuration, stopAfter (tasks handled
// before it exits), holdMs (mode hold: wait, then try to complete), holdFile (mode hold: wait
// until this file exists instead, so a test decides when), timeoutMs.
import {
  BasicAuthInterceptor,
  Client,
  Variables,
} from "camunda-external-task-client-js";
import { existsSync } from "node:fs";

const config = JSON.parse(process.env.WORKER_CONFIG);
const say = (event) => console.log(JSON.stringify(event));

const client = new Client({
  baseUrl: config.baseUrl,
  workerId: config.workerId,
  interval: 200,
  maxTasks: 1,
  asyncResponseTimeout: 1000,
  lockDuration: config.lockDuration ?? 20000,
  autoPoll: false,
  interceptors: new BasicAuthInterceptor({
    username: config.username,
    password: config.password,
  }),
});

let handled = 0;
const done = () => {
  handled += 1;
  if (handled >= (config.stopAfter ?? 1)) {
    client.stop();
    setTimeout(() => process.exit(0), 50);
  }
};

client.on("poll:error", (e) => say({ event: "poll_error", message: String(e) }));

const outcomes = {
  async complete(task, taskService) {
    const variables = new Variables()
      .set("approved", true)
      .set("score", 7)
      .set("limits", { max: 5000 });
    await taskService.complete(task, variables);
  },
  async completeLocal(task, taskService) {
    const variables = new Variables().set("approved", true);
    const local = new Variables().set("score", 7).set("scratch", "js");
    await taskService.complete(task, variables, local);
  },
  async failure(task, taskService) {
    const retries = task.retries == null ? 1 : task.retries - 1;
    await taskService.handleFailure(task, {
      errorMessage: "ERP down (js)",
      errorDetails: "stack trace",
      retries,
      retryTimeout: 100,
    });
  },
  async bpmnError(task, taskService) {
    const variables = new Variables().set("reason", "js");
    await taskService.handleBpmnError(task, "CREDIT_REFUSED", "refused", variables);
  },
  async hold(task, taskService) {
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    if (config.holdFile) {
      while (!existsSync(config.holdFile)) await sleep(50);
    } else {
      await sleep(config.holdMs ?? 1000);
    }
    await taskService.complete(task);
  },
};

client.subscribe(config.topic, async ({ task, taskService }) => {
  say({
    event: "fetched",
    id: task.id,
    retries: task.retries ?? null,
    variables: task.variables.getAll(),
    processInstanceId: task.processInstanceId,
  });
  try {
    await outcomes[config.mode](task, taskService);
    say({ event: "reported", id: task.id, mode: config.mode });
  } catch (e) {
    say({ event: "refused", id: task.id, message: String(e) });
  }
  done();
});

client.start();
setTimeout(() => {
  say({ event: "timeout" });
  process.exit(3);
}, config.timeoutMs ?? 30000);
