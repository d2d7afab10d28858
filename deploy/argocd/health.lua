-- Argo CD health check for Portico's kinds (Component, API, System, Template).
-- Argo CD shows Portico's own verdict: status.health when Portico computed one, Degraded
-- when Portico reports Ready=False, Progressing until Portico has seen the latest spec.
local hs = {}
local valid = {Healthy = true, Progressing = true, Degraded = true, Missing = true,
               Suspended = true, Unknown = true}
local status = obj.status
if status == nil or status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for Portico to reconcile"
  return hs
end
if obj.metadata ~= nil and obj.metadata.generation ~= nil
    and status.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Portico has not yet seen generation " .. tostring(obj.metadata.generation)
  return hs
end
if status.conditions ~= nil then
  for _, c in ipairs(status.conditions) do
    if c.type == "Ready" and c.status == "False" then
      hs.status = "Degraded"
      hs.message = (c.reason or "NotReady") .. ": " .. (c.message or "")
      return hs
    end
  end
end
if status.health ~= nil and status.health.status ~= nil then
  if valid[status.health.status] then
    hs.status = status.health.status
  else
    hs.status = "Unknown"
  end
  hs.message = status.health.message or ""
  return hs
end
hs.status = "Healthy"
hs.message = "Reconciled by Portico (no health source configured)"
return hs
