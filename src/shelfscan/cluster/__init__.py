"""Grouping embeddings into product types, with the number of types found automatically."""
from shelfscan.cluster.distances import combined_distance, cosine_distance, shared_neighbour_distance, whiten
from shelfscan.cluster.folder import FolderClusters, cluster_folder
from shelfscan.cluster.methods import METHODS, UNASSIGNED, ClusterResult, cluster_embeddings, relabel_by_size

__all__ = ["METHODS", "UNASSIGNED", "ClusterResult", "FolderClusters", "cluster_embeddings", "cluster_folder",
           "combined_distance", "cosine_distance", "relabel_by_size", "shared_neighbour_distance", "whiten"]
