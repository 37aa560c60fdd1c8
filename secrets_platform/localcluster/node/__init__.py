"""The local cluster's node: Debian's containerd and runc under our kubelet, pods on a loopback-only network.

``make up`` runs pods for real: kube-scheduler binds them, and one node named
``127.0.0.1`` runs them with a kubelet (v1.34.4, built with the control plane) over
containerd (Debian's ``containerd``, ``runc``; ``containernetworking-plugins`` for its
``loopback`` plugin). Everything of the node lives in the cluster's data folder
(``<data>/node/``): containerd's root, state, socket and network-namespace mounts,
runc's state, the kubelet's root folder and pod logs, the CNI configuration and plugins.

- Images are never pulled: ``make toolchain`` builds a sandbox image and a busybox
  workload image from the machine's packages (:mod:`localcluster.node.images`), and each
  start imports them (``ctr images import``). Pods use ``imagePullPolicy: Never``.
- The pod network is loopback only: ``loopback`` then our own plugin
  (:mod:`localcluster.node.cni`). A pod has its own ``lo`` and nothing else: it cannot
  reach the API server, OpenBao, PostgreSQL or anything off the machine, and nothing
  is created on the host (no interface, route or iptables rule: the kubelet's
  ``makeIPTablesUtilChains`` is off).
- Pods run in cgroups under a root of this cluster's own (``/secrets-platform-<id>`` in
  every cgroup hierarchy), so two clusters on one machine never touch each other's pods.

Three paths are hard-coded by the programs themselves and live outside the data folder:
containerd's shim sockets (``/run/containerd/s``), the kubelet's device-plugin socket
(``/var/lib/kubelet/device-plugins``), the kubelet's container-log links
(``/var/log/containers``) and libcni's result cache (``/var/lib/cni``). :meth:`Node.cleanup`
(run by ``make down``/``make destroy`` and before every start) kills what is left of this
node's pods, unmounts what is mounted under the data folder, removes the cgroups, and
removes this node's entries in those paths (and the folders, once empty).

The package's modules: :mod:`.node` (the :class:`Node`: its layout, checks and clean-up), :mod:`.config`
(containerd's, the kubelet's and the CNI network's files and command lines), :mod:`.packages` (what it needs
from Debian), :mod:`.host` (what it leaves outside the data folder), :mod:`.pods` (:func:`wait_pod`),
:mod:`.images` and :mod:`.cni`.
"""

from secrets_platform.localcluster.node.host import CNI_CACHE, CONTAINER_LOGS, DEVICE_PLUGINS, SHIM_SOCKETS
from secrets_platform.localcluster.node.node import Node, NodeError
from secrets_platform.localcluster.node.pods import wait_pod

__all__ = ["CNI_CACHE", "CONTAINER_LOGS", "DEVICE_PLUGINS", "SHIM_SOCKETS", "Node", "NodeError", "wait_pod"]
