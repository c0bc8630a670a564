package dev.pgpolicy.proxy.enforce;

import dev.pgpolicy.policy.PolicySet;
import dev.pgpolicy.proxy.admin.PolicyControl;
import java.util.LinkedHashMap;
import java.util.Map;

/** The admin endpoint's view of the live policy set: {@code GET /policy} and {@code POST /reload}. */
public final class LivePolicyControl implements PolicyControl {
    private final LivePolicy policy;

    public LivePolicyControl(LivePolicy policy) {
        this.policy = policy;
    }

    @Override
    public String revision() {
        return policy.revision().toString();
    }

    @Override
    public Map<String, Object> describe() {
        LivePolicy.Loaded loaded = policy.current();
        PolicySet set = loaded.set();
        Map<String, Object> description = new LinkedHashMap<>();
        description.put("revision", loaded.revision().toString());
        description.put("digest", loaded.revision().digest());
        description.put("git_commit", loaded.revision().gitCommit().orElse(null));
        description.put("directory", policy.directory().toString());
        description.put("files", set.files());
        description.put("rules", set.ruleIds().size());
        description.put("detect_only", set.detectOnly());
        return description;
    }

    @Override
    public ReloadOutcome reload() {
        LivePolicy.Outcome outcome = policy.reload();
        return new ReloadOutcome(outcome.loaded(), outcome.revision().toString(), outcome.problems());
    }
}
