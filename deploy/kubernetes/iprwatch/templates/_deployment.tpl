{{/*
One service's Deployment.
(dict "root" $ "component" "ingest" "svc" .Values.ingest "env" "<yaml list>"
      "volumes" "<yaml list>" "mounts" "<yaml list>" "strategy" "RollingUpdate" "replicas" true)
*/}}
{{- define "iprwatch.deployment" -}}
{{- $root := .root -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "iprwatch.fullname" $root }}-{{ .component }}
  labels:
    {{- include "iprwatch.componentLabels" . | nindent 4 }}
spec:
  {{- if .replicas }}
  replicas: {{ .svc.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: {{ .strategy }}
    {{- if eq .strategy "RollingUpdate" }}
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
    {{- end }}
  selector:
    matchLabels:
      {{- include "iprwatch.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "iprwatch.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/part-of: iprwatch
      annotations:
        checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
        {{- with .svc.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "iprwatch.serviceAccountName" $root }}
      automountServiceAccountToken: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: 30
      containers:
        - name: {{ .component }}
          image: {{ include "iprwatch.image" $root | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: [{{ .component | quote }}]
          ports:
            - name: http
              containerPort: {{ .svc.port }}
              protocol: TCP
          env:
            - name: IPRWATCH_HOME
              value: /tmp/iprwatch
            {{- .env | nindent 12 }}
            {{- include "iprwatch.kafkaEnv" $root | nindent 12 }}
            {{- with .svc.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- include "iprwatch.probes" . | nindent 10 }}
          resources:
            {{- toYaml .svc.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if $root.Values.plan.existingConfigMap }}
            - name: plan
              mountPath: /etc/iprwatch/plan
              readOnly: true
            {{- end }}
            {{- with .mounts }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- if $root.Values.plan.existingConfigMap }}
        - name: plan
          configMap:
            name: {{ $root.Values.plan.existingConfigMap }}
        {{- end }}
        {{- with .volumes }}
        {{- . | nindent 8 }}
        {{- end }}
      {{- include "iprwatch.podScheduling" . | nindent 6 }}
{{- end -}}
