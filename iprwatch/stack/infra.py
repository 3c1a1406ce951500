"""Starting the stack's infrastructure: PostgreSQL, Kafka (one broker or a cluster) and the
SMTP mail sink, each kept if it already runs."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from functools import partial

from iprwatch.stack import kafka, postgres, system
from iprwatch.stack.home import REPO_ROOT
from iprwatch.stack.parts import (
    KAFKA,
    Endpoints,
    kafka_count,
    kafka_names,
    node_of,
    ports_are_free,
)
from iprwatch.stack.processes import (
    LOOPBACK,
    StackError,
    free_port,
    port_answers,
    port_is_free,
    spawn,
    wait_until,
)
from iprwatch.stack.records import StackRecords
from iprwatch.stack.state import Part, StackState
from shared.kafka import ensure_topics


class InfraStack(StackRecords):
    # -- infrastructure ------------------------------------------------------------------
    def up_infra(self, brokers: int | None = None) -> Endpoints:
        """Start (or keep) PostgreSQL, Kafka (`brokers` nodes; by default as many as the stack
        had, one for a new stack) and the mail sink; return how to reach them."""
        system.ensure(
            [system.JAVA, system.MAVEN, system.POSTGRES, system.CJK_FONT, system.PANGO],
            say=self.say,
        )  # the font: the alerts service draws charts
        self.home.prepare()
        with self._locked():
            state = self._state()
            recorded = kafka_count(state)
            brokers = brokers or recorded or 1
            if recorded and brokers != recorded:
                raise StackError(
                    f"this stack's Kafka has {recorded} broker(s), not {brokers}: stop and delete "
                    f"it first (`iprwatch stack clean`) to start it with {brokers}"
                )
            self._up_postgres(state)
            self._up_kafka(state, brokers)
            self._up_smtp(state)
            state.save(self.home.state_file)
        endpoints = self.endpoints(state)
        settings = endpoints.kafka
        if brokers > 1:
            with self._step(f"waiting for the {brokers} Kafka brokers to join"):
                asyncio.run(kafka.wait_for_brokers(settings.bootstrap_servers, brokers))
        topics = [settings.events_topic, settings.indicators_topic, settings.dead_letter_topic]
        asyncio.run(ensure_topics(settings, topics))
        return endpoints

    def endpoints(self, state: StackState | None = None) -> Endpoints:
        state = state or self._state()
        nodes = kafka_names(kafka_count(state) or 1)
        try:
            return Endpoints(
                kafka_bootstrap=",".join(f"{LOOPBACK}:{state.parts[n].port}" for n in nodes),
                postgres_dsn=postgres.dsn(state.parts["postgres"].port),
                smtp_port=state.parts["smtp"].port,
                brokers=len(nodes),
            )
        except KeyError as exc:
            raise StackError(f"the stack has no {exc.args[0]}: run `iprwatch stack up`") from exc

    def _up_postgres(self, state: StackState) -> None:
        if (part := self._live(state, "postgres")) is not None:
            self.say(f"postgres     already running on port {part.port} (pid {part.pid})")
            return
        port = self._port_for(state, "postgres")
        log = self.home.logs / "postgres.log"
        with self._step(f"starting PostgreSQL on port {port}"):
            pid = postgres.start(self.home.postgres, port, log)
            postgres.create_database(port)
        self._record(
            state,
            Part("postgres", pid, port, postgres.MARKER, str(log), stop_signal=int(signal.SIGINT)),
        )

    def _up_kafka(self, state: StackState, brokers: int = 1) -> None:
        if brokers > 1:
            self._up_kafka_cluster(state, brokers)
            return
        if (part := self._live(state, "kafka")) is not None:
            self.say(f"kafka        already running on port {part.port} (pid {part.pid})")
            return
        taken = self._taken_ports(state)
        old = state.parts.get("kafka")
        if old is not None:
            # The KRaft metadata remembers its listeners: the data was made with these ports.
            ports = kafka.KafkaPorts(old.port, int(old.extra["controller_port"]))
            busy = [p for p in (ports.broker, ports.controller) if not port_is_free(p)]
            if busy:
                raise StackError(
                    f"Kafka's ports {busy} are taken by another program; free them, "
                    f"or remove {self.home.kafka} to start Kafka afresh on new ports"
                )
        else:
            broker = free_port(self._preferred("kafka"), taken)
            ports = kafka.KafkaPorts(
                broker, free_port(self._preferred("kafka-controller"), taken | {broker})
            )
        log = self.home.logs / "kafka.log"
        libs = kafka.ensure_jars(self.home.kafka, progress=self.say)
        properties = kafka.configure(self.home.kafka, ports)
        with self._step(f"starting Kafka on port {ports.broker}"):
            kafka.format_storage(self.home.kafka, libs, properties)
            pid = kafka.start(self.home.kafka, libs, properties, ports, log)
        self._record(
            state,
            Part("kafka", pid, ports.broker, kafka.MARKER, str(log),
                 extra={"controller_port": str(ports.controller)}),
        )  # fmt: skip

    def _up_kafka_cluster(self, state: StackState, brokers: int, only: str | None = None) -> None:
        """Start the nodes of the cluster that do not run (or only node `only`), then wait
        until each started one listens. A node keeps its ports: the quorum names them."""
        names = kafka_names(brokers)
        taken = self._taken_ports(state)
        nodes: dict[int, kafka.KafkaPorts] = {}
        cluster = ""
        for name in names:
            node = node_of(name)
            if (old := state.parts.get(name)) is not None:
                nodes[node] = kafka.KafkaPorts(old.port, int(old.extra["controller_port"]))
                cluster = cluster or old.extra.get("cluster_id", "")
                continue
            preferred = self._preferred("kafka")
            preferred = preferred + 2 * (node - 1) if preferred else None
            broker = free_port(preferred, taken)
            controller = free_port(preferred + 1 if preferred else None, taken | {broker})
            taken |= {broker, controller}
            nodes[node] = kafka.KafkaPorts(broker, controller)
        libs = kafka.ensure_jars(self.home.kafka, progress=self.say)
        spec = kafka.Cluster(self.home.kafka, libs, nodes, cluster or kafka.cluster_id())
        started: list[int] = []
        for name in names:
            node = node_of(name)
            if only is not None and name != only:
                continue
            if (part := self._live(state, name)) is not None:
                self.say(f"{name:<12} already running on port {part.port} (pid {part.pid})")
                continue
            ports = nodes[node]
            pair = (ports.broker, ports.controller)
            with contextlib.suppress(StackError):  # a moment for a killed node to let go
                wait_until(partial(ports_are_free, pair), 10, f"node {node}'s ports")
            if name in state.parts and (busy := [p for p in pair if not port_is_free(p)]):
                raise StackError(
                    f"the ports {busy} of Kafka node {node} are taken by another program; free "
                    f"them, or remove {self.home.kafka} to start Kafka afresh on new ports"
                )
            log = self.home.logs / f"{name}.log"
            pid = spec.launch(node, log)
            self._record(
                state,
                Part(name, pid, ports.broker, kafka.MARKER, str(log),
                     extra={"controller_port": str(ports.controller), "node_id": str(node),
                            "cluster_id": spec.cluster}),
            )  # fmt: skip
            started.append(node)
        if started:
            ports_text = ", ".join(str(nodes[n].broker) for n in started)
            with self._step(f"starting Kafka node(s) {started} on port(s) {ports_text}"):
                for node in started:  # each listens once a quorum of controllers runs
                    self._wait_listening(f"{KAFKA}-{node}", nodes[node].broker)

    def _wait_listening(self, name: str, port: int) -> None:
        wait_until(lambda: port_answers(port), 120, name, self.home.logs / f"{name}.log")

    def _up_smtp(self, state: StackState) -> None:
        if (part := self._live(state, "smtp")) is not None:
            self.say(f"smtp         already running on port {part.port} (pid {part.pid})")
            return
        port = self._port_for(state, "smtp")
        log = self.home.logs / "smtp.log"
        command = [sys.executable, "-m", "iprwatch.stack.mailsink", "--port", str(port),
                   "--folder", str(self.home.mail)]  # fmt: skip
        with self._step(f"starting the SMTP mail sink on port {port}"):
            pid = spawn(command, log, cwd=REPO_ROOT)
            wait_until(lambda: port_answers(port), 20, "SMTP mail sink", log)
        self._record(state, Part("smtp", pid, port, "iprwatch.stack.mailsink", str(log)))
