{{/* Names, labels and the values several templates share. */}}

{{- define "iprwatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "iprwatch.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "iprwatch.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "iprwatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: iprwatch
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one service: (dict "root" $ "component" "ingest") */}}
{{- define "iprwatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "iprwatch.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "iprwatch.componentLabels" -}}
{{ include "iprwatch.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "iprwatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "iprwatch.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "iprwatch.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "iprwatch.kafkaClusterName" -}}
{{- default (include "iprwatch.fullname" .) .Values.kafka.strimzi.clusterName | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "iprwatch.pgClusterName" -}}
{{- default (printf "%s-pg" (include "iprwatch.fullname" .)) .Values.postgresql.cnpg.clusterName | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "iprwatch.bootstrapServers" -}}
{{- if .Values.kafka.strimzi.enabled -}}
{{- printf "%s-kafka-bootstrap:9092" (include "iprwatch.kafkaClusterName" .) -}}
{{- else -}}
{{- required "kafka.bootstrapServers is required when kafka.strimzi.enabled is false" .Values.kafka.bootstrapServers -}}
{{- end -}}
{{- end -}}

{{/* Brokers of the Strimzi cluster (0 when Kafka is not made by this chart). */}}
{{- define "iprwatch.brokers" -}}
{{- if .Values.kafka.strimzi.enabled -}}{{ int .Values.kafka.strimzi.nodePool.replicas }}{{- else -}}0{{- end -}}
{{- end -}}

{{/* Replication factor of the topics: the value, else 3 with three brokers or more, else 1. */}}
{{- define "iprwatch.replicationFactor" -}}
{{- if .Values.kafka.replicationFactor -}}
{{- int .Values.kafka.replicationFactor -}}
{{- else if ge (int (include "iprwatch.brokers" .)) 3 -}}3{{- else -}}1{{- end -}}
{{- end -}}

{{- define "iprwatch.minInsyncReplicas" -}}
{{- if .Values.kafka.minInsyncReplicas -}}
{{- int .Values.kafka.minInsyncReplicas -}}
{{- else if ge (int (include "iprwatch.replicationFactor" .)) 3 -}}2{{- else -}}1{{- end -}}
{{- end -}}

{{- define "iprwatch.secretName" -}}
{{- default (printf "%s-secrets" (include "iprwatch.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* The environment every service shares: Kafka, the plan, the log level. */}}
{{- define "iprwatch.kafkaEnv" -}}
- name: IPRWATCH_KAFKA_BOOTSTRAP_SERVERS
  value: {{ include "iprwatch.bootstrapServers" . | quote }}
- name: IPRWATCH_KAFKA_EVENTS_TOPIC
  value: {{ .Values.kafka.topics.events | quote }}
- name: IPRWATCH_KAFKA_INDICATORS_TOPIC
  value: {{ .Values.kafka.topics.indicators | quote }}
- name: IPRWATCH_KAFKA_DEAD_LETTER_TOPIC
  value: {{ .Values.kafka.topics.deadLetter | quote }}
- name: IPRWATCH_KAFKA_PARTITIONS
  value: {{ .Values.kafka.partitions | quote }}
- name: IPRWATCH_KAFKA_REPLICATION_FACTOR
  value: {{ include "iprwatch.replicationFactor" . | quote }}
- name: IPRWATCH_KAFKA_REQUEST_TIMEOUT_MS
  value: {{ .Values.kafka.requestTimeoutMs | quote }}
{{- if .Values.plan.existingConfigMap }}
- name: IPRWATCH_PLAN_FILE
  value: {{ printf "/etc/iprwatch/plan/%s" .Values.plan.key | quote }}
{{- end }}
{{- end -}}

{{- define "iprwatch.postgresEnv" -}}
- name: IPRWATCH_PG_DSN
  valueFrom:
    secretKeyRef:
{{- if .Values.postgresql.cnpg.enabled }}
      name: {{ printf "%s-app" (include "iprwatch.pgClusterName" .) }}
      key: uri
{{- else }}
      name: {{ include "iprwatch.secretName" . }}
      key: postgres-dsn
{{- end }}
- name: IPRWATCH_PG_POOL_MIN_SIZE
  value: {{ .Values.postgresql.poolMinSize | quote }}
- name: IPRWATCH_PG_POOL_MAX_SIZE
  value: {{ .Values.postgresql.poolMaxSize | quote }}
{{- end -}}

{{/* Pod-level parts every Deployment shares: (dict "root" $ "component" "ingest" "svc" .Values.ingest) */}}
{{- define "iprwatch.podScheduling" -}}
{{- with .svc.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .svc.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .svc.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .svc.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "iprwatch.probes" -}}
startupProbe:
  httpGet: {path: /healthz, port: http}
  {{- toYaml .root.Values.probes.startup | nindent 2 }}
readinessProbe:
  httpGet: {path: /readyz, port: http}
  {{- toYaml .root.Values.probes.readiness | nindent 2 }}
livenessProbe:
  httpGet: {path: /healthz, port: http}
  {{- toYaml .root.Values.probes.liveness | nindent 2 }}
{{- end -}}
